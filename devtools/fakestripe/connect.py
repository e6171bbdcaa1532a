"""Connect: Express accounts, account links with a fake onboarding page, transfers."""

import copy
import html
import time

from aiohttp import web
from localstripe import resources as r
from localstripe.server import get_post_data, json_response

from .core import emit, later, ledger, reject_unknown, settings, stripe_error, to_int
from .money import transaction

# What Stripe asks of a new US Express account for the card_payments and transfers capabilities
# (individual); other countries ask for an id number instead of the last four SSN digits.
ONBOARDING_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.address.city",
    "individual.address.line1",
    "individual.address.postal_code",
    "individual.address.state",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.email",
    "individual.first_name",
    "individual.last_name",
    "individual.phone",
    "individual.ssn_last_4",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]
# Submitted fields that Stripe checks after the form is sent (the rest is accepted at once).
VERIFIED_LATER = ("external_account", "individual.")
NEEDS_TRANSFERS = (
    "Your destination account needs to have at least one of the following capabilities enabled:"
    " transfers, crypto_transfers, legacy_payments"
)


def onboarding_due(country):
    if country == "US":
        return list(ONBOARDING_DUE)
    return [f for f in ONBOARDING_DUE if f != "individual.ssn_last_4"] + ["individual.id_number"]


def _requirements(due=(), pending=(), past_due=None, deadline=None, errors=(), enabled=False):
    """Stripe's requirements hash (also a capability's and future_requirements).

    ``past_due`` defaults to ``due`` (a new account: nothing is enabled until it is given);
    ``disabled_reason`` says why an account that is not ``enabled`` is not.
    """
    past_due = list(due) if past_due is None else list(past_due)
    disabled_reason = None
    if not enabled:
        if past_due:
            disabled_reason = "requirements.past_due"
        elif pending and not due:
            disabled_reason = "requirements.pending_verification"
    return {
        "alternatives": [],
        "currently_due": list(due),
        "eventually_due": list(due),
        "past_due": past_due,
        "pending_verification": list(pending),
        "errors": [dict(e) for e in errors],
        "current_deadline": deadline,
        "disabled_reason": disabled_reason,
    }


class _Snapshot:
    """An object exported once, for an event about something the store does not keep."""

    def __init__(self, exported):
        self.object = exported["object"]
        self._exported = exported

    def _export(self, expand=None):
        return dict(self._exported)


def _newest_first(li, **filters):
    """Keep the list's objects matching every non-None filter, newest first."""
    li._list = [
        obj
        for obj in reversed(li._list)
        if all(value is None or getattr(obj, name) == value for name, value in filters.items())
    ]
    return li


class Account(r.StripeObject):
    """A connected account, onboarded in Stripe's stages.

    Created with everything ``currently_due`` (and past due: nothing is enabled yet). The
    onboarding form sends it all: ``details_submitted``, the identity and bank details move
    to ``pending_verification`` and the capabilities to ``pending`` (``account.updated``).
    ``settings.verification_after`` seconds later (or at ``POST /_config/accounts/<id>/verify``)
    Stripe's checks pass: the capabilities are ``active`` (one ``capability.updated`` each),
    charges and payouts enabled (``account.updated``). ``POST /_config/accounts/<id>/require``
    makes fields due again.
    """

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
        self.requirements = _requirements(onboarding_due(country))
        self.future_requirements = _requirements()
        self._requested_at = {name: self.created for name in self.capabilities}
        self._verify_at = None

    def _capability(self, name):
        """The Capability object of one requested capability."""
        return {
            "id": name,
            "object": "capability",
            "account": self.id,
            "requested": True,
            "requested_at": getattr(self, "_requested_at", {}).get(name, self.created),
            "requirements": copy.deepcopy(self.requirements),
            "future_requirements": copy.deepcopy(
                getattr(self, "future_requirements", None) or _requirements()
            ),
            "status": self.capabilities[name],
        }

    def _set_capabilities(self, status, only=None):
        """Move capabilities (those in ``only``, or all) to status; the names that moved."""
        moved = [
            name
            for name, now in self.capabilities.items()
            if now != status and (only is None or now in only)
        ]
        for name in moved:
            self.capabilities[name] = status
        return moved

    def _submit_details(self):
        """The person sent the onboarding form: what was due is given, and checked later."""
        req = self.requirements
        due = list(dict.fromkeys(req["currently_due"] + req["past_due"]))
        if self.details_submitted and not due:
            return  # nothing asked, nothing to send
        before = self._export()
        pending = list(req["pending_verification"])
        pending += [f for f in due if f.startswith(VERIFIED_LATER) and f not in pending]
        self.details_submitted = True
        if not self.capabilities:  # Express accounts have transfers at least
            self.capabilities = {"transfers": "inactive"}
            self._requested_at = {"transfers": int(time.time())}
        if not pending:
            self._verify(before)
            return
        self.requirements = _requirements(pending=pending, enabled=self.payouts_enabled)
        self._set_capabilities("pending", only=("inactive",))
        emit("account.updated", self, before)
        self._schedule_verification(settings.verification_after)

    def _schedule_verification(self, delay):
        self._verify_at = at = time.time() + delay
        later(delay, lambda: _verify_if_due(self.id, at))

    def _verify(self, before=None):
        """Stripe's checks of what is pending pass; if nothing else is due, all is enabled."""
        before = self._export() if before is None else before
        self._verify_at = None
        req = self.requirements
        if req["currently_due"] or req["past_due"]:
            self.requirements = _requirements(
                req["currently_due"],
                past_due=req["past_due"],
                deadline=req["current_deadline"],
                errors=req["errors"],
                enabled=self.payouts_enabled,
            )
        else:
            self.requirements = _requirements()
            for name in self._set_capabilities("active"):
                emit("capability.updated", _Snapshot(self._capability(name)))
            self.charges_enabled = self.payouts_enabled = True
        emit("account.updated", self, before)

    def _require(self, fields, past_due=False, deadline=None, error=None):
        """Stripe asks for fields again: due by the deadline, or past due (disabled now)."""
        before = self._export()
        req = self.requirements
        due = list(dict.fromkeys(req["currently_due"] + list(fields)))
        pending = [f for f in req["pending_verification"] if f not in fields]
        errors = [e for e in req["errors"] if e["requirement"] not in fields]
        if error is not None:
            errors += [dict(error, requirement=f) for f in fields]
        if past_due:
            self.requirements = _requirements(due, pending, errors=errors)
            for name in self._set_capabilities("inactive"):
                emit("capability.updated", _Snapshot(self._capability(name)))
            self.charges_enabled = self.payouts_enabled = False
        else:
            self.requirements = _requirements(
                due,
                pending,
                past_due=req["past_due"],
                deadline=deadline,
                errors=errors,
                enabled=self.payouts_enabled,
            )
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


def _verify_if_due(account_id, at):
    """The delayed end of verification, unless it already ended or was scheduled anew."""
    account = r.store.get(f"account:{account_id}")
    if account is not None and getattr(account, "_verify_at", None) == at:
        account._verify()


async def resume_verifications(app):
    """At start (after --state loaded): verifications that were under way run on."""
    now = time.time()
    for key, obj in list(r.store.items()):
        at = getattr(obj, "_verify_at", None) if key.startswith("account:") else None
        if at is not None:
            later(max(0.0, at - now), lambda i=obj.id, at=at: _verify_if_due(i, at))


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
        # Stripe refuses until the capability is active; accepting it while pending lets the
        # platform's flows pay out right after onboarding without waiting for the checks.
        if account.capabilities.get("transfers") not in ("active", "pending"):
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
{due}
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
    due = account.requirements["currently_due"]
    listed = "".join(f"<li><code>{html.escape(f)}</code></li>" for f in due)
    text = ONBOARDING_PAGE.format(
        account=html.escape(account.id),
        email=html.escape(account.email or "no email"),
        due=f"<p>Stripe asks for:</p><ul>{listed}</ul>" if due else "<p>Nothing is due.</p>",
    )
    return web.Response(text=text, content_type="text/html")


async def onboarding_submit(request):
    """POST /connect/onboarding/<link>: send the details (or not), then go back to return_url."""
    link = _usable_link(request)
    link._used = True
    if (await request.post()).get("action") == "complete":
        Account._api_retrieve(link._account)._submit_details()
    raise web.HTTPFound(link._return_url)


async def complete_account(request):
    """POST /_config/accounts/<id>/complete: the onboarding form sent, without a browser."""
    account = Account._api_retrieve(request.match_info["id"])
    account._submit_details()
    return json_response(account._export())


async def verify_account(request):
    """POST /_config/accounts/<id>/verify: Stripe's checks of pending details pass now."""
    account = Account._api_retrieve(request.match_info["id"])
    if account.requirements["pending_verification"] or getattr(account, "_verify_at", None):
        account._verify()
    return json_response(account._export())


def _field_list(value):
    """fields[]=a&fields[]=b, fields=a,b or a JSON list."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, dict):  # fields[0]=a&fields[1]=b
        value = list(value.values())
    if not isinstance(value, list) or not value:
        raise stripe_error(400, "Missing required param: fields.", param="fields")
    return [str(f).strip() for f in value if str(f).strip()]


async def require_fields(request):
    """POST /_config/accounts/<id>/require: fields[] due again (Stripe asking for more).

    ``past_due=true`` disables the account at once (capabilities inactive, no charges or
    payouts); otherwise they are due by ``deadline_in`` seconds from now (default 14 days)
    and the account stays enabled. ``reason`` (and ``code``, default
    ``verification_failed_other``) adds them to ``errors``, as a failed check does.
    """
    account = Account._api_retrieve(request.match_info["id"])
    data = dict(await get_post_data(request) or {})
    fields = _field_list(data.get("fields"))
    past_due = r.try_convert_to_bool(data.get("past_due", False)) is True
    deadline_in = to_int(data.get("deadline_in", 14 * 24 * 3600), "deadline_in", minimum=0)
    error = None
    if data.get("reason"):
        error = {"code": data.get("code") or "verification_failed_other", "reason": data["reason"]}
    account._require(
        fields,
        past_due=past_due,
        deadline=None if past_due else int(time.time()) + deadline_in,
        error=error,
    )
    return json_response(account._export())


def _capabilities_list(account):
    return {
        "object": "list",
        "url": f"/v1/accounts/{account.id}/capabilities",
        "has_more": False,
        "data": [account._capability(name) for name in sorted(account.capabilities)],
    }


async def list_capabilities(request):
    """GET /v1/accounts/<id>/capabilities."""
    return json_response(_capabilities_list(Account._api_retrieve(request.match_info["id"])))


async def retrieve_capability(request):
    """GET /v1/accounts/<id>/capabilities/<capability>."""
    account = Account._api_retrieve(request.match_info["id"])
    name = request.match_info["capability"]
    if name not in account.capabilities:
        raise stripe_error(
            404, f"No such capability: '{name}'", code="resource_missing", param="capability"
        )
    return json_response(account._capability(name))
