"""Connect: Express accounts, account links with a fake onboarding page, transfers."""

import html
import time

from aiohttp import web
from localstripe import resources as r
from localstripe.server import get_post_data, json_response

from .core import emit, ledger, reject_unknown, stripe_error, to_int
from .money import transaction

ONBOARDING_DUE = ["business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip"]
NEEDS_TRANSFERS = (
    "Your destination account needs to have at least one of the following capabilities enabled:"
    " transfers, crypto_transfers, legacy_payments"
)


def _requirements(due):
    return {
        "currently_due": list(due),
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
        "errors": [],
        "current_deadline": None,
        "disabled_reason": "requirements.past_due" if due else None,
    }


def _newest_first(li, **filters):
    """Keep the list's objects matching every non-None filter, newest first."""
    li._list = [
        obj
        for obj in reversed(li._list)
        if all(value is None or getattr(obj, name) == value for name, value in filters.items())
    ]
    return li


class Account(r.StripeObject):
    """A connected account; its flags turn true once onboarding is completed."""

    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type=None,
        country="US",
        email=None,
        capabilities=None,
        business_type=None,
        business_profile=None,
        default_currency=None,
        metadata=None,
        **params,
    ):
        reject_unknown(params)
        if type not in ("express", "standard", "custom"):
            raise stripe_error(400, "Missing required param: type.", code="parameter_missing")
        if capabilities is not None and not isinstance(capabilities, dict):
            raise stripe_error(400, "Invalid capabilities", param="capabilities")
        super().__init__()
        self.type = type
        self.country = country
        self.email = email
        self.business_type = business_type
        self.business_profile = business_profile or {}
        self.default_currency = default_currency or ("usd" if country == "US" else "eur")
        self.metadata = metadata or {}
        self.capabilities = {
            name: "inactive"
            for name, wanted in (capabilities or {}).items()
            if isinstance(wanted, dict) and r.try_convert_to_bool(wanted.get("requested")) is True
        }
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.requirements = _requirements(ONBOARDING_DUE)

    def _complete_onboarding(self):
        """What a person finishing Stripe's hosted onboarding achieves."""
        before = self._export()
        self.charges_enabled = self.payouts_enabled = self.details_submitted = True
        self.capabilities = {name: "active" for name in self.capabilities or ["transfers"]}
        self.requirements = _requirements([])
        emit("account.updated", self, before)

    @classmethod
    def _api_update(cls, id, **data):
        """POST /v1/accounts/<id> sends account.updated, as on Stripe."""
        account = super()._api_update(id, **data)
        emit("account.updated", account, getattr(account, "_before_update", None))
        return account

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, **params):
        reject_unknown(params)
        return _newest_first(super()._api_list_all(url, limit, starting_after))


class AccountLink(r.StripeObject):
    """A single-use link to the fake onboarding page."""

    object = "account_link"
    _id_prefix = "link_"

    def __init__(self, account=None, refresh_url=None, return_url=None, type=None, **params):
        params.pop("collect", None)
        params.pop("collection_options", None)
        reject_unknown(params)
        for name, value in (("refresh_url", refresh_url), ("return_url", return_url)):
            if not (isinstance(value, str) and value.startswith(("http://", "https://"))):
                raise stripe_error(400, f"Missing required param: {name}.", param=name)
        if type not in ("account_onboarding", "account_update"):
            raise stripe_error(400, "Invalid type: must be account_onboarding.", param="type")
        if not isinstance(account, str) or f"account:{account}" not in r.store:
            raise stripe_error(
                400, f"No such account: '{account}'", code="resource_missing", param="account"
            )
        super().__init__()
        self.expires_at = self.created + 300
        self.url = None
        self._account = account
        self._refresh_url = refresh_url
        self._return_url = return_url
        self._used = False

    def _export(self, expand=None):
        obj = super()._export(expand)
        del obj["id"]  # account links have no id on Stripe
        return obj


class Transfer(r.StripeObject):
    """Money sent from the platform's available balance to a connected account."""

    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        amount=None,
        currency=None,
        destination=None,
        transfer_group=None,
        description=None,
        metadata=None,
        **params,
    ):
        reject_unknown(params)
        amount = to_int(amount, "amount")
        if not isinstance(currency, str) or not currency:
            raise stripe_error(400, "Missing required param: currency.", code="parameter_missing")
        account = r.store.get(f"account:{destination}")
        if account is None:
            raise stripe_error(
                400,
                f"No such destination: '{destination}'",
                code="resource_missing",
                param="destination",
            )
        if account.capabilities.get("transfers") != "active":
            raise stripe_error(400, NEEDS_TRANSFERS, code="insufficient_capabilities_for_transfer")
        ledger.spend(currency.lower(), amount)
        super().__init__()
        self.amount = amount
        self.amount_reversed = 0
        self.currency = currency.lower()
        self.destination = destination
        self.destination_payment = "py_" + r.random_id(24)
        self.transfer_group = transfer_group
        self.description = description
        self.metadata = metadata or {}
        self.reversed = False
        self.source_type = "card"
        self.source_transaction = None
        self.balance_transaction = transaction("transfer", -amount, self.currency, self.id)
        emit("transfer.created", self)

    @property
    def reversals(self):
        li = r.List(f"/v1/transfers/{self.id}/reversals", limit=100)
        li._list = [
            obj
            for key, obj in r.store.items()
            if key.startswith("transfer_reversal:") and obj.transfer == self.id
        ]
        return li

    @classmethod
    def _api_list_all(
        cls,
        url,
        destination=None,
        transfer_group=None,
        limit=None,
        starting_after=None,
        **params,
    ):
        reject_unknown(params)
        li = super()._api_list_all(url, limit, starting_after)
        return _newest_first(li, destination=destination, transfer_group=transfer_group)


class TransferReversal(r.StripeObject):
    """Money taken back from a transfer into the platform's available balance."""

    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer=None, amount=None, description=None, metadata=None, **params):
        params.pop("refund_application_fee", None)
        reject_unknown(params)
        tr = Transfer._api_retrieve(transfer)
        remaining = tr.amount - tr.amount_reversed
        if remaining <= 0:
            raise stripe_error(
                400, f"Transfer {tr.id} has already been fully reversed.", code="transfer_reversed"
            )
        amount = remaining if amount is None else to_int(amount, "amount")
        if amount > remaining:
            raise stripe_error(
                400,
                f"You cannot reverse more than the remaining amount of the transfer ({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        super().__init__()
        self.amount = amount
        self.currency = tr.currency
        self.transfer = tr.id
        self.description = description
        self.metadata = metadata or {}
        tr.amount_reversed += amount
        tr.reversed = tr.amount_reversed == tr.amount
        ledger.available[tr.currency] += amount
        self.balance_transaction = transaction("transfer_refund", amount, tr.currency, self.id)
        emit("transfer.reversed", tr)


def create_reversal(id, **params):
    """POST /v1/transfers/<id>/reversals."""
    return TransferReversal(transfer=id, **params)


def list_reversals(id, **params):
    """GET /v1/transfers/<id>/reversals."""
    return Transfer._api_retrieve(id).reversals


async def create_account_link(request):
    """POST /v1/account_links: the url points at this server's onboarding page."""
    link = AccountLink(**(await get_post_data(request) or {}))
    link.url = f"{request.scheme}://{request.host}/connect/onboarding/{link.id}"
    return json_response(link._export())


ONBOARDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake Stripe onboarding</title></head>
<body>
<h1>Fake Stripe Connect onboarding</h1>
<p>Account <code>{account}</code> ({email}) is being set up.</p>
<form method="post">
<button type="submit" name="action" value="complete">Complete onboarding</button>
<button type="submit" name="action" value="later">Return without completing</button>
</form>
</body></html>
"""


def _usable_link(request):
    link = r.store.get(f"account_link:{request.match_info['id']}")
    if link is None:
        raise web.HTTPNotFound(text="Unknown account link")
    if link._used or time.time() > link.expires_at:
        raise web.HTTPFound(link._refresh_url)  # as Stripe does with a stale link
    return link


async def onboarding_page(request):
    """GET /connect/onboarding/<link>: what the person sees instead of Stripe's forms."""
    link = _usable_link(request)
    account = Account._api_retrieve(link._account)
    text = ONBOARDING_PAGE.format(
        account=html.escape(account.id), email=html.escape(account.email or "no email")
    )
    return web.Response(text=text, content_type="text/html")


async def onboarding_submit(request):
    """POST /connect/onboarding/<link>: complete (or not), then go back to return_url."""
    link = _usable_link(request)
    link._used = True
    if (await request.post()).get("action") == "complete":
        Account._api_retrieve(link._account)._complete_onboarding()
    raise web.HTTPFound(link._return_url)


async def complete_account(request):
    """POST /_config/accounts/<id>/complete: onboarding without a browser."""
    account = Account._api_retrieve(request.match_info["id"])
    account._complete_onboarding()
    return json_response(account._export())
