"""Money as Stripe keeps it: balance transactions with fees, disputes, refunds that fail later.

- A card charge's balance transaction has ``fee`` and ``fee_details`` from the fee schedule
  (``settings.fees``), ``net = amount - fee``, and stays ``pending`` until ``available_on``
  (``settings.available_after`` seconds later); the balance's pending and available amounts move
  with it.
- A refund's balance transaction takes back the refunded amount only: the fee is not returned.
- Transfers and their reversals have balance transactions of their own (available at once).
- 4000000000000259: the charge succeeds, then the cardholder disputes it (fraudulent):
  a dispute (``dp_...``), ``charge.disputed``, a balance transaction taking the amount and the
  dispute fee, ``charge.dispute.created``.
- 4000000000005126: the charge succeeds; a refund of it is ``succeeded`` at first and
  ``failed`` (``expired_or_canceled_card``) ``settings.refund_failure_after`` seconds later, the
  money coming back to the balance (``failure_balance_transaction``), with
  ``charge.refund.updated``, ``refund.updated`` and ``refund.failed``.
"""

import math
import time

from localstripe import resources as r

from .core import emit, later, ledger, settings, stripe_error

DISPUTE_CARD = "4000000000000259"
REFUND_FAILS_CARD = "4000000000005126"
CATEGORIES = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "refund_failure": "refund_failure",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "adjustment": "dispute",
}
DESCRIPTIONS = {"charge": "Stripe processing fees", "adjustment": "Dispute fee"}
EVIDENCE_FIELDS = [
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
]

_charge_export = r.Charge._export
_charge_init = r.Charge.__init__
_refund_export = r.Refund._export
_charge_refunds = r.Charge.refunds.fget


def txn_init(
    self,
    amount=None,
    currency=None,
    description=None,
    exchange_rate=None,
    reporting_category=None,
    source=None,
    type=None,
    fee=None,
    **kwargs,
):
    """A balance transaction; charges get the schedule's fee and wait until available_on."""
    r.StripeObject.__init__(self)
    self.amount = int(amount)
    self.currency = currency
    self.description = description
    self.exchange_rate = None
    self.type = type
    self.reporting_category = CATEGORIES.get(type, reporting_category or type)
    self.source = source
    if fee is None:
        fee = settings.card_fee(currency, self.amount) if type == "charge" else 0
    self.fee = fee
    self.fee_details = (
        [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": DESCRIPTIONS.get(type, "Stripe fees"),
                "type": "stripe_fee",
            }
        ]
        if fee
        else []
    )
    if type == "charge":
        self._available_at = time.time() + settings.available_after  # the heap's precise key
        self.available_on = math.ceil(self._available_at)
        self.status = "pending"
    else:
        self.available_on = self.created
        self.status = "available"


def txn_list(
    cls,
    url,
    limit=None,
    starting_after=None,
    type=None,
    source=None,
    currency=None,
    payout=None,
    created=None,
    ending_before=None,
    **params,
):
    """GET /v1/balance_transactions: newest first, by type, source or currency."""
    if params:
        name = sorted(params)[0]
        raise stripe_error(
            400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
        )
    li = r.List(url, limit=limit, starting_after=starting_after)
    li._list = [
        txn
        for key, txn in reversed(list(r.store.items()))
        if key.startswith("balance_transaction:")
        and (type is None or txn.type == type)
        and (source is None or txn.source == source)
        and (currency is None or txn.currency == currency.lower())
    ]
    li._list.sort(key=lambda t: t.created, reverse=True)
    return li


def book(type, amount, currency, source, description=None, fee=None):
    """Make a balance transaction and move the balance with it; returns its id."""
    txn = r.BalanceTransaction(
        amount=amount,
        currency=currency,
        source=source,
        type=type,
        description=description,
        fee=fee,
    )
    if txn.status == "pending":
        ledger.hold(txn)
    elif txn.net >= 0:
        ledger.available[currency] += txn.net
    else:
        ledger.refund(currency, -txn.net)
    return txn.id


def charge_init(self, *args, **kwargs):
    """Charges have amount_captured, billing_details and disputed, as on Stripe."""
    _charge_init(self, *args, **kwargs)
    self._refund_ids = []
    self.disputed = False
    pm = r.PaymentMethod._api_retrieve(self.payment_method)
    details = getattr(pm, "billing_details", None) or {}
    self.billing_details = {
        "address": details.get("address"),
        "email": details.get("email"),
        "name": details.get("name"),
        "phone": details.get("phone"),
    }


def charge_refunds(self):
    """The charge's refunds from its own index, not a scan of the whole store on each export."""
    ids = getattr(self, "_refund_ids", None)
    if ids is None:  # a charge from an older state file
        return _charge_refunds(self)
    li = r.List(f"/v1/charges/{self.id}/refunds")
    li._list = sorted(
        (r.store[f"refund:{i}"] for i in ids if f"refund:{i}" in r.store),
        key=lambda refund: refund.date,
        reverse=True,
    )
    return li


def index_refund(refund, charge):
    """Called as a refund of charge is made."""
    if getattr(charge, "_refund_ids", None) is not None:
        charge._refund_ids.append(refund.id)


def charge_export(self, expand=None):
    """Since 2022-11-15 a charge's refunds list is only there when expanded."""
    expand = list(expand or [])
    obj = _charge_export(self, expand=expand)
    if "refunds" not in expand:
        obj.pop("refunds", None)
    obj["amount_captured"] = self.amount if self.captured and self.status == "succeeded" else 0
    return obj


def amount_refunded(self):
    """Failed or canceled refunds gave the money back: they do not count."""
    return sum(
        refund.amount
        for refund in self.refunds._list
        if refund.status not in ("failed", "canceled")
    )


def refunded(self):
    return self.amount <= amount_refunded(self)


def charge_credited(charge, on_success=None):
    """A captured charge: its balance transaction (made by localstripe, with the schedule's fee)
    holds the net amount in pending; the 0259 card's cardholder then disputes it."""
    txn = r.BalanceTransaction._api_retrieve(charge.balance_transaction)
    ledger.hold(txn)
    if on_success:
        on_success()
    if _card(charge) == DISPUTE_CARD:
        Dispute(charge)


def _card(charge):
    pm = r.PaymentMethod._api_retrieve(charge.payment_method)
    return getattr(pm, "_card_number", None)


def refund_made(refund, charge):
    """A refund's balance transaction takes back the gross refunded amount (localstripe makes it,
    the fee stays with Stripe); a refund of the 5126 card fails a little later."""
    if _card(charge) == REFUND_FAILS_CARD:
        later(settings.refund_failure_after, lambda: fail_refund(refund.id))


def transaction(type, amount, currency, source, description=None):
    """A balance transaction for money the caller already moved (transfers, reversals)."""
    return r.BalanceTransaction(
        amount=amount, currency=currency, source=source, type=type, description=description
    ).id


def fail_refund(refund_id):
    """What Stripe does when the card can no longer take the refund back."""
    refund = r.store.get(f"refund:{refund_id}")
    if refund is None or refund.status in ("failed", "canceled"):
        return
    before = refund._export()
    refund.status = "failed"
    refund.failure_reason = "expired_or_canceled_card"
    refund.failure_balance_transaction = book(
        "refund_failure",
        refund.amount,
        refund.currency,
        refund.id,
        description="REFUND FAILURE",
    )
    emit("charge.refund.updated", refund, before)
    emit("refund.updated", refund, before)
    emit("refund.failed", refund)


def refund_export(self, expand=None):
    obj = _refund_export(self, expand=expand)
    obj.pop("date", None)
    return obj


class Dispute(r.StripeObject):
    """A cardholder's dispute of a charge (made by the 4000000000000259 test card)."""

    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge):
        super().__init__()
        self.amount = charge.amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = "fraudulent"
        self.status = "needs_response"
        self.is_charge_refundable = False
        self.metadata = {}
        self.evidence = dict.fromkeys(EVIDENCE_FIELDS)
        self.evidence_details = {
            "due_by": int(time.time()) + 7 * 24 * 3600,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.payment_method_details = {
            "type": "card",
            "card": {"brand": "visa", "network_reason_code": "10.4"},
        }
        self._balance_transactions = [
            book(
                "adjustment",
                -charge.amount,
                charge.currency,
                self.id,
                description=f"Chargeback withdrawal for {charge.id}",
                fee=settings.dispute_fee(charge.currency),
            )
        ]
        charge.disputed = True
        emit("charge.dispute.created", self)
        emit("charge.dispute.funds_withdrawn", self)

    @property
    def balance_transactions(self):
        return [r.BalanceTransaction._api_retrieve(t)._export() for t in self._balance_transactions]

    @classmethod
    def _api_list_all(
        cls, url, limit=None, starting_after=None, charge=None, payment_intent=None, **params
    ):
        li = super()._api_list_all(url, limit, starting_after, **params)
        li._list = [
            d
            for d in reversed(li._list)
            if (charge is None or d.charge == charge)
            and (payment_intent is None or d.payment_intent == payment_intent)
        ]
        return li


r.BalanceTransaction.__init__ = txn_init
r.BalanceTransaction._api_list_all = classmethod(txn_list)
r.Charge.__init__ = charge_init
r.Charge._export = charge_export
r.Charge.refunds = property(charge_refunds)
r.Charge.amount_refunded = property(amount_refunded)
r.Charge.refunded = property(refunded)
r.Refund._export = refund_export
