"""A creator's Stripe Connect (Express) account: creating it, onboarding it, keeping its status.

The workflows here follow ``app.pledges.checkout``: read what the Stripe call needs and
commit, call Stripe with no transaction open (the gateway refuses otherwise), then record the
answer in a short transaction and commit. The account is created with an idempotency key
derived from the user, so a retry, or two clicks at once, find the same Stripe account, and
the unique ``user_id`` keeps one row per creator. A ``GatewayError`` leaves the database as
it was; the caller tells the person to try again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.accounts.models import User
from app.extensions import db
from app.payments import gateway
from app.payments.gateway import Account
from app.payouts.models import ConnectedAccount
from app.pledges.services import idempotency_key

# Countries where a creator may open an Express account here (ISO 3166-1 alpha-2), first the
# default. Stripe supports more; the list is short on purpose and easy to extend.
COUNTRIES: dict[str, str] = {
    "US": "United States",
    "GB": "United Kingdom",
    "CA": "Canada",
    "AU": "Australia",
    "IE": "Ireland",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
}
DEFAULT_COUNTRY = "US"


class PayoutStatus(enum.Enum):
    NOT_CONNECTED = "not_connected"
    INCOMPLETE = "incomplete"  # the account exists; Stripe still needs details from the person
    VERIFYING = "verifying"  # details sent; Stripe is checking them before enabling payouts
    READY = "ready"  # details submitted and payouts enabled: transfers can be made


# Stripe's requirement fields in plain words, for the person who has to provide them. Several
# fields can share a label (the three parts of a date of birth); unknown ones get a label made
# from their last part (see ``describe``).
REQUIREMENT_LABELS: dict[str, str] = {
    "business_type": "Type of business (individual or company)",
    "business_profile.mcc": "What your business does (industry)",
    "business_profile.url": "Your website or a link to your work",
    "business_profile.product_description": "What your business does (industry)",
    "external_account": "Bank account for payouts",
    "individual.address.city": "Home address",
    "individual.address.line1": "Home address",
    "individual.address.postal_code": "Home address",
    "individual.address.state": "Home address",
    "individual.dob.day": "Date of birth",
    "individual.dob.month": "Date of birth",
    "individual.dob.year": "Date of birth",
    "individual.email": "Email address",
    "individual.first_name": "Legal name",
    "individual.last_name": "Legal name",
    "individual.phone": "Phone number",
    "individual.ssn_last_4": "Last 4 digits of your Social Security number",
    "individual.id_number": "Government ID number",
    "individual.verification.document": "Photo of an identity document",
    "individual.verification.additional_document": "Proof of address document",
    "tos_acceptance.date": "Acceptance of Stripe's terms of service",
    "tos_acceptance.ip": "Acceptance of Stripe's terms of service",
    "company.name": "Company name",
    "company.tax_id": "Company tax ID",
    "company.address.city": "Company address",
    "company.address.line1": "Company address",
    "company.address.postal_code": "Company address",
    "company.address.state": "Company address",
    "company.phone": "Company phone number",
    "relationship.representative": "Company representative",
    "relationship.owner": "Company owners",
}


def describe(fields: list[str] | tuple[str, ...]) -> list[str]:
    """Stripe's field names as plain labels, each once, in the order first asked for."""
    labels: dict[str, None] = {}
    for name in fields:
        label = REQUIREMENT_LABELS.get(name)
        if label is None:
            last = name.rsplit(".", 1)[-1].replace("_", " ").strip() or name
            label = last[:1].upper() + last[1:]
        labels[label] = None
    return list(labels)


@dataclass(frozen=True)
class Links:
    """Where Stripe sends the person back: after onboarding, or when a link is stale."""

    refresh_url: str
    return_url: str


def account_of(user_id: int) -> ConnectedAccount | None:
    return db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.user_id == user_id))


def status_of(account: ConnectedAccount | None) -> PayoutStatus:
    if account is None:
        return PayoutStatus.NOT_CONNECTED
    if account.ready:
        return PayoutStatus.READY
    if account.details_submitted and not account.requirements_due:
        return PayoutStatus.VERIFYING
    return PayoutStatus.INCOMPLETE


def apply_flags(account: ConnectedAccount, flags: Account) -> None:
    """Store what Stripe says of the account (flushes, never commits)."""
    account.details_submitted = flags.details_submitted
    account.charges_enabled = flags.charges_enabled
    account.payouts_enabled = flags.payouts_enabled
    account.requirements_due = list(flags.requirements_due)
    account.pending_verification = list(flags.pending_verification)
    account.disabled_reason = flags.disabled_reason[:100]
    account.capabilities = dict(flags.capabilities)
    account.updated_at = clock.now()
    db.session.flush()


# ---- workflows: each commits around its Stripe calls -------------------------------------


def connect(user_id: int, country: str, links: Links) -> str:
    """The user's onboarding link, creating their Stripe account first if they have none.

    ``country`` only matters when the account is created. Raises ``GatewayError``.
    """
    if country not in COUNTRIES:
        raise ValueError(f"unsupported country {country!r}")
    account = account_of(user_id)
    stripe_id = account.stripe_account_id if account is not None else None
    email = db.session.get(User, user_id).email
    db.session.commit()
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
    account = ConnectedAccount(user_id=user_id, stripe_account_id=created.id)
    db.session.add(account)
    try:
        apply_flags(account, created)
        db.session.commit()
    except IntegrityError:  # a double click: the same key gave it the same Stripe account
        db.session.rollback()
        existing = account_of(user_id)
        if existing is None:
            raise
        stripe_id = existing.stripe_account_id
        db.session.commit()
        return stripe_id
    return created.id


def new_link(user_id: int, links: Links) -> str | None:
    """A fresh onboarding link for the user's account; None if they have no account."""
    account = account_of(user_id)
    stripe_id = account.stripe_account_id if account is not None else None
    db.session.commit()
    if stripe_id is None:
        return None
    return gateway().create_account_link(
        account=stripe_id, refresh_url=links.refresh_url, return_url=links.return_url
    )


def refresh(user_id: int) -> PayoutStatus:
    """Ask Stripe how the user's account stands and store it. Raises ``GatewayError``."""
    account = account_of(user_id)
    stripe_id = account.stripe_account_id if account is not None else None
    db.session.commit()
    if stripe_id is None:
        return PayoutStatus.NOT_CONNECTED
    flags = gateway().retrieve_account(stripe_id)
    account = account_of(user_id)
    apply_flags(account, flags)
    status = status_of(account)
    db.session.commit()
    return status


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
    account = _known_account(stripe_id)
    if account is None:
        db.session.commit()
        return "unknown account"
    user_id = account.user_id
    db.session.commit()  # the event is remembered; no transaction across the call
    refresh(user_id)
    return None
