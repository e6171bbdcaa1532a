"""The payout account's steps that talk to Stripe: connect, a fresh link, refresh, webhooks.

They follow the ritual of ``app.workflow``: read what the Stripe call needs and commit, call
Stripe with no transaction open (the gateway refuses otherwise), then record the answer in a
short transaction and commit. The account is created with an idempotency key derived from the user,
so a retry, or two clicks at once, find the same Stripe account, and the unique ``user_id``
keeps one row per creator. A ``GatewayError`` leaves the database as it was; the caller tells
the person to try again (a webhook answers 503, so Stripe delivers the event again).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.extensions import db
from app.payments import gateway, webhooks
from app.payments.gateway import Account
from app.payments.keys import idempotency_key
from app.payouts import services
from app.payouts.models import ConnectedAccount
from app.workflow import step, transaction


def connect(user_id: int, country: str, links: services.Links) -> str:
    """The user's onboarding link, creating their Stripe account first if they have none.

    ``country`` only matters when the account is created. Raises ``GatewayError``.
    """
    if country not in services.COUNTRIES:
        raise ValueError(f"unsupported country {country!r}")
    with transaction():
        stripe_id = _stripe_id(user_id)
        email = db.session.get(User, user_id).email
    if stripe_id is None:
        created = gateway().create_account(
            email=email, country=country, key=idempotency_key("account", user_id)
        )
        stripe_id = _store_new_account(user_id, created)
    return gateway().create_account_link(
        account=stripe_id, refresh_url=links.refresh_url, return_url=links.return_url
    )


def _store_new_account(user_id: int, created: Account) -> str:
    """Record the account Stripe made; a concurrent request may have recorded it first."""
    try:
        with transaction():
            account = ConnectedAccount(user_id=user_id, stripe_account_id=created.id)
            db.session.add(account)
            services.apply_flags(account, created)
    except IntegrityError:  # a double click: the same key gave it the same Stripe account
        with transaction():
            stripe_id = _stripe_id(user_id)
        if stripe_id is None:
            raise
        return stripe_id
    return created.id


def _stripe_id(user_id: int) -> str | None:
    account = services.account_of(user_id)
    return account.stripe_account_id if account is not None else None


def new_link(user_id: int, links: services.Links) -> str | None:
    """A fresh onboarding link for the user's account; None if they have no account."""
    with transaction():
        stripe_id = _stripe_id(user_id)
    if stripe_id is None:
        return None
    return gateway().create_account_link(
        account=stripe_id, refresh_url=links.refresh_url, return_url=links.return_url
    )


def refresh(user_id: int) -> services.PayoutStatus:
    """Ask Stripe how the user's account stands and store it. Raises ``GatewayError``."""
    return step(
        lambda: _stripe_id(user_id),
        lambda stripe_id: gateway().retrieve_account(stripe_id) if stripe_id else None,
        lambda _stripe_id, flags: _store(user_id, flags),
    )


def _store(user_id: int, flags: Account | None) -> services.PayoutStatus:
    """Keep what Stripe says of the account; no account: not connected."""
    if flags is None:
        return services.PayoutStatus.NOT_CONNECTED
    account = services.account_of(user_id)
    services.apply_flags(account, flags)
    return services.status_of(account)


# ---- webhook ------------------------------------------------------------------------------


def _known_account(stripe_id: object) -> ConnectedAccount | None:
    return db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.stripe_account_id == stripe_id)
    )


def on_account_updated(obj: dict) -> str | None:
    """``account.updated``: store how a known account stands now.

    Stripe does not promise the order of events, and delivers some twice or late, so the
    payload may be older than what is stored (details sent, then an old "nothing sent" event
    arriving last). The account is therefore read again from Stripe and its current state
    stored; if Stripe cannot be reached the ``GatewayError`` makes the webhook answer 503 and
    Stripe delivers the event again."""
    return _refresh_known(obj.get("id"))


def on_capability_updated(obj: dict) -> str | None:
    """``capability.updated``: the account's capabilities changed; read it again, as above."""
    if not (isinstance(obj.get("id"), str) and isinstance(obj.get("status"), str)):
        raise TypeError("a capability needs an id and a status")
    return _refresh_known(obj.get("account"))


def _refresh_known(stripe_id: object) -> str | None:
    with transaction():  # the event is remembered; no transaction across the call
        account = _known_account(stripe_id)
        if account is None:
            return "unknown account"
        user_id = account.user_id
    refresh(user_id)
    return None


def register_webhooks() -> None:
    webhooks.register(
        {"account.updated": on_account_updated, "capability.updated": on_capability_updated}
    )
