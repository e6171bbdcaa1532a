"""Fixes to localstripe's payments: params, declines at confirm, refunds, latest_charge."""

from localstripe import resources as r
from localstripe.errors import UserError

from . import money, wallets
from .core import emit, ledger, reject_unknown, stripe_error, to_int
from .core import money as format_money

GENERIC = ("card_declined", "generic_decline", "Your card was declined.")
NO_FUNDS = ("card_declined", "insufficient_funds", "Your card has insufficient funds.")
# Test card -> (code, decline_code, message) when it is charged, as in Stripe's testing docs.
DECLINES = {
    "4000000000000002": GENERIC,
    "4000000000009995": NO_FUNDS,
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", None, "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", None, "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4000000000000341": GENERIC,
    "4000008260003178": NO_FUNDS,
    "4000008400001629": GENERIC,
}
CANONICAL_CARDS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
}
AUTH_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment"
    " method and try again."
)
PI_EXTRA = (
    "transfer_group",
    "description",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "setup_future_usage",
    "automatic_payment_methods",
)
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
# Confirm parameters Stripe.js and the SDK may send that change nothing here.
CONFIRM_IGNORED = ("use_stripe_sdk", "mandate_data", "shipping")
AUTHENTICATION_REQUIRED = (
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)
# Needs authentication on every payment, even off-session after a setup (Stripe's testing docs).
ALWAYS_AUTHENTICATE = ("4000002760003184", "4000008260003178", "4000000000003063")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
)

_pi_init = r.PaymentIntent.__init__
_pi_export = r.PaymentIntent._export
_pi_create_charge = r.PaymentIntent._create_charge
_pi_report_failure = r.PaymentIntent._report_failure
_pi_authenticate = r.PaymentIntent._api_authenticate
_pi_cancel = r.PaymentIntent._api_cancel
_charging_is_declined = r.PaymentMethod._charging_is_declined
_trigger_payment = r.Charge._trigger_payment
_refund_init = r.Refund.__init__
_event_list = r.Event._api_list_all.__func__
_seti_init = r.SetupIntent.__init__
_seti_attach_pm = r.SetupIntent._attach_pm


def _card_number(payment_method_id):
    """The test card number behind a payment method id, if any."""
    source = r.PaymentMethod._api_retrieve(payment_method_id)
    return getattr(source, "_card_number", None)


def _retrieve(cls, id):
    """Find an object or answer 404 with Stripe's resource_missing error."""
    obj = r.store.get(f"{cls.object}:{id}")
    if obj is None:
        raise stripe_error(
            404, f"No such {cls.object}: '{id}'", code="resource_missing", param="id"
        )
    return obj


def _canonical_card(cls, id):
    """Turn Stripe's test ids such as pm_card_visa into a new card payment method."""
    number = CANONICAL_CARDS.get(id)
    if number:
        card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
        return r.PaymentMethod(type="card", card=card)
    return None


def pi_init(self, payment_method=None, payment_method_types=None, **data):
    """Accept the common PaymentIntent parameters localstripe rejects."""
    extra = {name: data.pop(name, None) for name in PI_EXTRA}
    if data.get("capture_method") not in (None, "automatic", "automatic_async", "manual"):
        raise stripe_error(400, "Invalid capture_method", code="parameter_invalid_string")
    options = data.pop("payment_method_options", None)
    if payment_method_types is not None:
        wallets.check_types(payment_method_types, data.get("currency"))
    _pi_init(self, payment_method=payment_method, **data)
    if payment_method:  # store the real id, not e.g. pm_card_visa
        self.payment_method = r.PaymentMethod._api_retrieve(payment_method).id
    self.payment_method_types = payment_method_types or ["card"]
    self.payment_method_options = options if isinstance(options, dict) else {}
    self.cancellation_reason = None
    self.confirmation_method = "automatic"
    for name, value in extra.items():
        setattr(self, name, value)
    emit("payment_intent.created", self)


def pi_export(self, expand=None):
    """Export latest_charge as an id unless it is expanded, and drop the removed `charges`."""
    expand = list(expand or [])
    expanded = any(path.split(".")[0] == "latest_charge" for path in expand)
    obj = _pi_export(self, expand=[p for p in expand if p.split(".")[0] != "latest_charge"])
    obj.pop("charges", None)
    charge = obj.get("latest_charge")
    if isinstance(charge, dict) and not expanded:
        obj["latest_charge"] = charge["id"]
    elif isinstance(charge, dict):  # Stripe expands nested paths: latest_charge.<field>
        nested = [p.split(".", 1)[1] for p in expand if p.startswith("latest_charge.")]
        if nested:
            obj["latest_charge"] = self.latest_charge._export(expand=nested)
    return obj


def pi_create_charge(self, on_failure_now):
    """Copy the intent's transfer_group and description onto its charge, as Stripe does."""
    try:
        _pi_create_charge(self, on_failure_now)
    finally:
        if self.latest_charge is not None:
            self.latest_charge.transfer_group = self.transfer_group
            self.latest_charge.description = self.description


def pi_report_failure(self):
    """A declined intent goes back to requires_payment_method with no payment method."""
    self.payment_method = None
    _pi_report_failure(self)


def last_payment_error(self):
    """The last decline or failed authentication, shaped like Stripe's."""
    if getattr(self, "_wallet_error", None):
        return self._wallet_error
    if self._authentication_failed:
        return {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "message": AUTH_FAILED,
            "payment_method": getattr(self, "_failed_payment_method", None),
        }
    charge = self.latest_charge
    if charge is None or charge.status != "failed":
        return None
    return {
        "type": "card_error",
        "charge": charge.id,
        "code": charge.failure_code,
        "decline_code": getattr(charge, "_decline_code", None),
        "message": charge.failure_message,
        "payment_method": r.PaymentMethod._api_retrieve(charge.payment_method)._export(),
    }


def confirm(id, payment_method=None, payment_method_data=None, client_secret=None, **params):
    """POST /v1/payment_intents/<id>/confirm, with a new card or payment method if given."""
    for name in CONFIRM_IGNORED:
        params.pop(name, None)
    receipt_email = params.pop("receipt_email", None)
    return_url = params.pop("return_url", None)
    options = params.pop("payment_method_options", None)
    setup_future_usage = params.pop("setup_future_usage", None)
    off_session = r.try_convert_to_bool(params.pop("off_session", None))
    reject_unknown(params)
    pi = r.PaymentIntent._api_retrieve(id)
    if client_secret is not None and client_secret != pi.client_secret:
        raise stripe_error(
            400,
            "The client_secret provided does not match the client_secret associated with the"
            " PaymentIntent.",
            param="client_secret",
        )
    if pi.status not in CONFIRMABLE:
        raise stripe_error(
            400,
            f"You cannot confirm this PaymentIntent because it has a status of {pi.status}."
            f" Only a PaymentIntent with one of the following statuses may be confirmed:"
            f" {', '.join(CONFIRMABLE)}.",
            code="payment_intent_unexpected_state",
        )
    if payment_method_data is not None:
        if not isinstance(payment_method_data, dict):
            raise stripe_error(400, "Invalid payment_method_data", param="payment_method_data")
        payment_method = r.PaymentMethod(**payment_method_data).id
    if payment_method is not None:
        chosen = r.PaymentMethod._api_retrieve(payment_method)
        wallets.check_confirm(pi, chosen, return_url, options)  # refused: the intent unchanged
        pi.payment_method = chosen.id
        pi.latest_charge = None
        pi.next_action = None
        pi._authentication_failed = False
        pi._wallet_error = None
    if receipt_email is not None:
        pi.receipt_email = receipt_email
    if setup_future_usage is not None:
        pi.setup_future_usage = setup_future_usage
    if not pi.payment_method:
        raise stripe_error(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
        )
    pm = r.PaymentMethod._api_retrieve(pi.payment_method)
    wallets.check_confirm(pi, pm, return_url, options)
    if wallets.is_wallet(pm):
        return wallets.confirm(pi, pm, return_url, options)
    if off_session is True and pm._requires_authentication():
        pi._authentication_failed = False
        if not _needs_authentication_off_session(pm):  # set up before: charged without 3DS
            pi._create_charge(on_failure_now=pi._report_failure)
            return pi
        # Nobody is there to authenticate: the payment fails with authentication_required.
        pm._force_decline = AUTHENTICATION_REQUIRED
        try:
            pi._create_charge(on_failure_now=pi._report_failure)
        finally:
            del pm._force_decline
        return pi
    pi._confirm(on_failure_now=pi._report_failure)
    return pi


def _needs_authentication_off_session(pm):
    """Cards needing authentication do so off-session too, unless set up for it (3155 only)."""
    number = getattr(pm, "_card_number", None)
    return number in ALWAYS_AUTHENTICATE or not getattr(pm, "_set_up", False)


def create_intent(cls, off_session=None, **data):
    """POST /v1/payment_intents, with confirm=true (and off_session) confirming at once."""
    confirm_now = r.try_convert_to_bool(data.pop("confirm", None))
    pi = cls(**data)
    if confirm_now is True:
        extra = {} if off_session is None else {"off_session": off_session}
        return confirm(pi.id, **extra)
    return pi


def authenticate(id, **params):
    """The 3-D Secure step of the fake Stripe.js; a failure is reported like Stripe does."""
    pi = r.PaymentIntent._api_retrieve(id)
    if wallets.awaiting(pi):  # the fake Stripe.js's WeChat Pay dialog
        return wallets.authenticate(pi, **params)
    payment_method = pi.payment_method
    _pi_authenticate(id, **params)
    if pi._authentication_failed:
        pi._failed_payment_method = r.PaymentMethod._api_retrieve(payment_method)._export()
        emit("payment_intent.payment_failed", pi)
    return pi


def charging_is_declined(self):
    """Decline test cards when charged, not only when attached to a customer."""
    if getattr(self, "_force_decline", None):
        return True
    return _charging_is_declined(self) or getattr(self, "_card_number", None) in DECLINES


def set_auth_failure(self):
    """Fail the charge with the code and message Stripe gives for its test card."""
    pm = r.PaymentMethod._api_retrieve(self.payment_method)
    forced = getattr(pm, "_force_decline", None)
    code, decline_code, message = forced or DECLINES.get(_card_number(self.payment_method), GENERIC)
    self.status = "failed"
    self.failure_code = code
    self.failure_message = message
    self.outcome = {"type": "issuer_declined", "reason": decline_code or code}
    self._decline_code = decline_code


def raise_failure(self):
    """Answer 402 with a card_error carrying the charge, intent and payment method."""
    extra = {
        "charge": self.id,
        "decline_code": getattr(self, "_decline_code", None),
        "payment_method": r.PaymentMethod._api_retrieve(self.payment_method)._export(),
    }
    if self.payment_intent:
        extra["payment_intent"] = r.PaymentIntent._api_retrieve(self.payment_intent)._export()
    raise stripe_error(
        402, self.failure_message, code=self.failure_code, type="card_error", **extra
    )


def trigger_payment(self, on_success=None):
    """A captured charge adds its net amount to the pending balance (see money.py)."""
    _trigger_payment(self, on_success=lambda: money.charge_credited(self, on_success))


def _charge_for_refund(charge, payment_intent):
    if charge is not None:
        return r.Charge._api_retrieve(charge)
    if payment_intent is None:
        raise stripe_error(400, "Missing required param: charge.", code="parameter_missing")
    pi = r.PaymentIntent._api_retrieve(payment_intent)
    if pi.latest_charge is None or pi.latest_charge.status == "failed":
        raise stripe_error(
            400,
            f"This PaymentIntent ({pi.id}) does not have a successful charge to refund.",
            code="charge_not_refundable",
        )
    return pi.latest_charge


def refund_init(self, charge=None, payment_intent=None, amount=None, reason=None, **params):
    """Refund at most what is left on the charge; no amount means all of the rest."""
    ch = _charge_for_refund(charge, payment_intent)
    if ch.status == "failed":
        raise stripe_error(400, "Cannot refund a failed payment.", code="charge_not_refundable")
    remaining = ch.amount - ch.amount_refunded
    if remaining <= 0:
        raise stripe_error(
            400, f"Charge {ch.id} has already been refunded.", code="charge_already_refunded"
        )
    amount = remaining if amount is None else to_int(amount, "amount")
    if amount > remaining:
        raise stripe_error(
            400,
            f"Refund amount ({format_money(amount, ch.currency)}) is greater than unrefunded"
            f" amount on charge ({format_money(remaining, ch.currency)})",
            code="amount_too_large",
            param="amount",
        )
    _refund_init(self, charge=ch.id, amount=amount, **params)
    money.index_refund(self, ch)
    self.payment_intent = ch.payment_intent
    self.reason = reason
    ledger.refund(ch.currency, amount)
    emit("refund.created", self)
    emit("charge.refunded", ch)
    money.refund_made(self, ch)


def refund_update(cls, id, **data):
    """Updating a refund (e.g. its metadata) sends refund.updated."""
    refund = r.StripeObject._api_update.__func__(cls, id, **data)
    emit("refund.updated", refund)
    return refund


def seti_init(self, **data):
    """Creating a SetupIntent sends setup_intent.created."""
    _seti_init(self, **data)
    self.last_setup_error = None
    emit("setup_intent.created", self)


INCORRECT_NUMBER = ("incorrect_number", None, "Your card number is incorrect.")


def seti_attach_pm(self, pm):
    """Set up a payment method. A card its issuer declines answers 402 card_error, as on Stripe:
    the intent goes back to requires_payment_method, without the card, with last_setup_error
    saying why, and can be confirmed again with another one."""
    if pm._attaching_is_declined():
        number = getattr(pm, "_card_number", None)
        code, decline_code, message = DECLINES.get(
            number, INCORRECT_NUMBER if number == "4242424242424241" else GENERIC
        )
        self.payment_method = None
        self.status = "requires_payment_method"
        self.next_action = None
        self.last_setup_error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "payment_method": pm._export(),
        }
        extra = {k: v for k, v in self.last_setup_error.items() if k not in ("type", "message")}
        raise stripe_error(402, message, type="card_error", setup_intent=self._export(), **extra)
    _seti_attach_pm(self, pm)
    self.last_setup_error = None


SETUP_EVENTS = {
    "succeeded": "setup_intent.succeeded",
    "requires_action": "setup_intent.requires_action",
    "canceled": "setup_intent.canceled",
}


def setup_intent_step(func):
    """Wrap SetupIntent confirm or cancel so it sends the setup_intent.* event Stripe sends."""

    def step(id, **params):
        try:
            seti = func(id, **params)
        except UserError as e:
            if e.code == 402:
                emit("setup_intent.setup_failed", r.SetupIntent._api_retrieve(id))
            raise
        if seti.status in SETUP_EVENTS:
            emit(SETUP_EVENTS[seti.status], seti)
        if seti.status == "succeeded" and seti.payment_method:
            r.PaymentMethod._api_retrieve(seti.payment_method)._set_up = True
        return seti

    return step


def cancel(id, cancellation_reason=None, **params):
    """POST /v1/payment_intents/<id>/cancel, which also sends payment_intent.canceled."""
    pi = r.PaymentIntent._api_retrieve(id)
    if pi.status not in CANCELABLE:
        raise stripe_error(
            400,
            f"You cannot cancel this PaymentIntent because it has a status of {pi.status}."
            f" Only a PaymentIntent with one of the following statuses may be canceled:"
            f" {', '.join(CANCELABLE)}.",
            code="payment_intent_unexpected_state",
            payment_intent=pi._export(),
        )
    pi = _pi_cancel(id, **params)
    pi.cancellation_reason = cancellation_reason
    emit("payment_intent.canceled", pi)
    return pi


def event_list(cls, url, **params):
    """List events newest first, like Stripe."""
    li = _event_list(cls, url, **params)
    li._list.reverse()
    return li


def _no_disk(self):
    """Keep localstripe's store in memory only."""


r.Store.dump_to_disk = _no_disk
r.Store.try_load_from_disk = _no_disk
r.StripeObject._api_retrieve = classmethod(_retrieve)
r.PaymentMethod._try_get_canonical_test_article = classmethod(_canonical_card)
r.PaymentMethod._charging_is_declined = charging_is_declined
r.PaymentIntent.__init__ = pi_init
r.PaymentIntent._api_create = classmethod(create_intent)
r.PaymentIntent._export = pi_export
r.PaymentIntent._create_charge = pi_create_charge
r.PaymentIntent._report_failure = pi_report_failure
r.PaymentIntent.last_payment_error = property(last_payment_error)
r.Charge._set_auth_failure = set_auth_failure
r.Charge._raise_failure = raise_failure
r.Charge._trigger_payment = trigger_payment
r.Refund.__init__ = refund_init
r.Refund._api_update = classmethod(refund_update)
r.Event._api_list_all = classmethod(event_list)
r.SetupIntent.__init__ = seti_init
r.SetupIntent._attach_pm = seti_attach_pm
