"""Stripe in memory, for the fast tier: what ``app.payments.gateway()`` returns, kept in dicts.

``MemoryGateway`` has the methods, records and errors of ``app.payments.gateway.StripeGateway``
(``tests/fast/test_memory_gateway.py`` compares their signatures) and behaves as Stripe does
where the platform relies on it:

- every call first refuses to run while a database transaction is open (the same guard);
- a call made again with the same idempotency key and the same parameters answers what the
  first one answered, an object or a refusal; the same key with other parameters is an
  ``idempotency_error``;
- money: a charge is pending until ``make_balance_available``; a transfer draws on the
  available balance (``balance_insufficient`` beyond it) and needs a known account; a refund
  cannot exceed what is left of its charge; cancelling a succeeded intent is refused.

Every call it receives is kept in ``calls``. The test plays the other side, as ``FakeStripe``
does for the fake server: ``pay`` and ``authenticate`` are the backer's browser, ``fail`` makes
the next calls of a method fail, ``complete_account``/``verify_account`` are the creator's
onboarding, ``refund_outside`` is a refund made in Stripe's dashboard, and ``intent_payload``
and ``refund_payload`` give the ``data.object`` of the webhook events Stripe would send.
There are no retries (the tests' config makes one attempt) and no webhook deliveries.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.payments.gateway import (
    Account,
    CardError,
    Charge,
    ChargeFee,
    Event,
    GatewayError,
    Intent,
    RefundResult,
    StripeGateway,
    Transfer,
    TransferRecord,
    guard_no_transaction,
)

T = TypeVar("T")

# Stripe's test payment methods -> (decline code, message) when charged; None succeeds.
CARDS: dict[str, tuple[str, str] | None] = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_chargeDeclined": ("card_declined", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeCustomerFail": ("card_declined", "Your card was declined."),
}
# Test payment methods that ask for 3-D Secure first (``authenticate`` finishes them).
AUTHENTICATE = {"pm_card_authenticationRequired", "pm_card_threeDSecure2Required"}
AUTH_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment"
    " method and try again."
)
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (*CONFIRMABLE, "requires_capture")
# What a new Express account is asked for, and what is checked after it is sent.
ONBOARDING_DUE = ("external_account", "individual.dob.day", "tos_acceptance.date")
VERIFIED_LATER = ("individual.verification.document",)


def unreachable(method: str = "") -> GatewayError:
    """What the gateway raises when Stripe cannot be reached (a timeout, a reset, a 5xx)."""
    return GatewayError(f"Stripe did not answer {method}".strip(), "", retryable=True, status=503)


@dataclass(frozen=True)
class Call:
    """One call the platform made: the gateway method, its arguments, its idempotency key."""

    method: str
    params: dict[str, Any]
    key: str | None = None


@dataclass
class _Fault:
    method: str
    error: GatewayError
    times: int
    after: bool  # True: Stripe acted, only the answer was lost


@dataclass
class StoredIntent:
    id: str
    amount: int
    currency: str
    customer: str
    metadata: dict[str, str]
    transfer_group: str
    description: str
    payment_method_types: tuple[str, ...]
    client_secret: str
    status: str = "requires_payment_method"
    payment_method: str | None = None
    charge_id: str | None = None
    amount_refunded: int = 0
    error_code: str = ""
    error_message: str = ""

    def record(self) -> Intent:
        return Intent(
            id=self.id,
            status=self.status,
            amount=self.amount,
            currency=self.currency,
            client_secret=self.client_secret,
            charge_id=self.charge_id,
            error_message=self.error_message,
            metadata=dict(self.metadata),
        )


@dataclass
class StoredRefund:
    id: str
    payment_intent: str
    amount: int
    status: str
    metadata: dict[str, str]
    failure_reason: str = ""

    def record(self) -> RefundResult:
        return RefundResult(
            id=self.id,
            status=self.status,
            amount=self.amount,
            failure_reason=self.failure_reason,
            metadata=dict(self.metadata),
        )


@dataclass
class StoredAccount:
    id: str
    email: str
    country: str
    details_submitted: bool = False
    charges_enabled: bool = False
    payouts_enabled: bool = False
    requirements_due: tuple[str, ...] = ONBOARDING_DUE
    pending_verification: tuple[str, ...] = ()
    capabilities: dict[str, str] = field(default_factory=lambda: {"transfers": "inactive"})

    def record(self) -> Account:
        disabled = ""
        if not self.payouts_enabled:
            disabled = (
                "requirements.past_due"
                if self.requirements_due
                else "requirements.pending_verification"
            )
        return Account(
            id=self.id,
            details_submitted=self.details_submitted,
            charges_enabled=self.charges_enabled,
            payouts_enabled=self.payouts_enabled,
            requirements_due=self.requirements_due,
            pending_verification=self.pending_verification,
            disabled_reason=disabled,
            capabilities=dict(self.capabilities),
        )


@dataclass
class StoredTransfer:
    id: str
    amount: int
    currency: str
    destination: str
    transfer_group: str
    metadata: dict[str, str]
    amount_reversed: int = 0

    def record(self) -> TransferRecord:
        return TransferRecord(
            id=self.id,
            amount=self.amount,
            amount_reversed=self.amount_reversed,
            currency=self.currency,
            destination=self.destination,
            transfer_group=self.transfer_group,
            metadata=dict(self.metadata),
        )


def _missing(kind: str, object_id: str) -> CardError:
    return CardError(f"No such {kind}: '{object_id}'", "resource_missing", status=404)


class MemoryGateway:
    """Stripe kept in dicts; see the module's docstring for what it does as Stripe does."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.customers: dict[str, dict[str, str]] = {}
        self.intents: dict[str, StoredIntent] = {}
        self.refunds: dict[str, StoredRefund] = {}
        self.accounts: dict[str, StoredAccount] = {}
        self.transfers: dict[str, StoredTransfer] = {}
        self.links: list[str] = []
        self.pending: Counter[str] = Counter()  # charged, not yet available, by currency
        self.available: Counter[str] = Counter()
        self.refunds_pending = False  # True: new refunds answer "pending" (settle_refund ends them)
        self._answers: dict[str, tuple[str, dict[str, Any], Any]] = {}
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()  # settlement and reconciliation call from threads

    # ---- what the test controls ---------------------------------------------------------

    def fail(
        self,
        method: str,
        error: GatewayError | None = None,
        *,
        times: int = 1,
        after: bool = False,
    ) -> None:
        """The next ``times`` calls of ``method`` raise ``error`` (Stripe unreachable unless
        given). With ``after`` Stripe does the call and only its answer is lost (a timeout):
        the object exists and the same key replays it. A ``CardError`` is Stripe refusing:
        kept under the call's key, so the same key is refused again."""
        if not callable(getattr(StripeGateway, method, None)) or method.startswith("_"):
            raise ValueError(f"the gateway has no method {method!r}")
        self._faults.append(_Fault(method, error or unreachable(method), times, after))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def pay(self, intent_id: str, card: str = "pm_card_visa") -> Intent:
        """What Stripe.js does in the backer's browser: confirm the intent with a card."""
        with self._lock:
            return self._confirm(self._intent(intent_id), card).record()

    def authenticate(self, intent_id: str, success: bool = True) -> Intent:
        """The backer passes (or fails) the 3-D Secure step of an intent that asked for it."""
        with self._lock:
            intent = self._intent(intent_id)
            if intent.status != "requires_action":
                raise ValueError(f"{intent_id} is {intent.status}, not requires_action")
            if success:
                self._charge(intent)
            else:
                self._decline(intent, ("payment_intent_authentication_failure", AUTH_FAILED))
            return intent.record()

    def make_balance_available(self) -> None:
        """Charged money becomes available to transfer (days later, at Stripe)."""
        with self._lock:
            self.available.update(self.pending)
            self.pending.clear()

    def settle_refund(self, refund_id: str, status: str = "succeeded", reason: str = "") -> None:
        """A pending refund ends at Stripe: ``succeeded``, or ``failed`` (its money returns)."""
        with self._lock:
            refund = self.refunds[refund_id]
            refund.status, refund.failure_reason = status, reason
            if status in ("failed", "canceled"):
                self.intents[refund.payment_intent].amount_refunded -= refund.amount
                self.available[self.intents[refund.payment_intent].currency] += refund.amount

    def refund_outside(self, intent_id: str, amount: int) -> StoredRefund:
        """A refund made in Stripe's dashboard, not by the platform."""
        with self._lock:
            return self._refund(self._intent(intent_id), amount, {})

    def complete_account(self, account_id: str, verify: bool = True) -> None:
        """The creator sends the onboarding form; Stripe's checks pass at once unless not
        ``verify`` (then ``verify_account`` ends them)."""
        with self._lock:
            account = self.accounts[account_id]
            account.details_submitted = True
            account.requirements_due = ()
            account.pending_verification = VERIFIED_LATER
            account.capabilities = {"transfers": "pending"}
        if verify:
            self.verify_account(account_id)

    def verify_account(self, account_id: str) -> None:
        with self._lock:
            account = self.accounts[account_id]
            account.pending_verification = ()
            account.charges_enabled = account.payouts_enabled = True
            account.capabilities = {"transfers": "active"}

    def intent_payload(self, intent_id: str) -> dict[str, Any]:
        """A PaymentIntent as a webhook's ``data.object`` carries it."""
        intent = self.intents[intent_id]
        error = None
        if intent.error_code:
            error = {
                "code": intent.error_code,
                "message": intent.error_message,
                "payment_method": {"type": "card"},
            }
        return {
            "id": intent.id,
            "object": "payment_intent",
            "amount": intent.amount,
            "currency": intent.currency,
            "status": intent.status,
            "metadata": dict(intent.metadata),
            "latest_charge": intent.charge_id,
            "last_payment_error": error,
        }

    def refund_payload(self, refund_id: str) -> dict[str, Any]:
        """A Refund as a webhook's ``data.object`` carries it."""
        refund = self.refunds[refund_id]
        return {
            "id": refund.id,
            "object": "refund",
            "amount": refund.amount,
            "payment_intent": refund.payment_intent,
            "status": refund.status,
            "metadata": dict(refund.metadata),
            "failure_reason": refund.failure_reason or None,
        }

    # ---- the gateway's methods ----------------------------------------------------------

    def create_customer(self, email: str, name: str, key: str) -> str:
        def make() -> str:
            customer_id = self._new_id("cus")
            self.customers[customer_id] = {"email": email, "name": name}
            return customer_id

        return self._call("create_customer", {"email": email, "name": name}, key, make)

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str,
        metadata: dict[str, str],
        transfer_group: str,
        description: str,
        key: str,
        payment_method_types: list[str] | tuple[str, ...] = ("card",),
    ) -> Intent:
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "metadata": dict(metadata),
            "transfer_group": transfer_group,
            "description": description,
            "payment_method_types": list(payment_method_types),
        }

        def make() -> Intent:
            if customer not in self.customers:
                raise _missing("customer", customer)
            intent_id = self._new_id("pi")
            intent = StoredIntent(
                id=intent_id,
                amount=amount,
                currency=currency.lower(),
                customer=customer,
                metadata={str(k): str(v) for k, v in metadata.items()},
                transfer_group=transfer_group,
                description=description,
                payment_method_types=tuple(payment_method_types),
                client_secret=f"{intent_id}_secret_memory",
            )
            self.intents[intent_id] = intent
            return intent.record()

        return self._call("create_payment_intent", params, key, make)

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return self._call(
            "retrieve_payment_intent",
            {"id": intent_id},
            None,
            lambda: self._intent(intent_id).record(),
        )

    def cancel_payment_intent(self, intent_id: str) -> Intent:
        def cancel() -> Intent:
            intent = self._intent(intent_id)
            if intent.status not in CANCELABLE:
                raise CardError(
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent.status}.",
                    "payment_intent_unexpected_state",
                    status=400,
                )
            intent.status = "canceled"
            return intent.record()

        return self._call("cancel_payment_intent", {"id": intent_id}, None, cancel)

    def confirm_payment_intent(self, intent_id: str, payment_method: str) -> Intent:
        def confirm() -> Intent:
            intent = self._confirm(self._intent(intent_id), payment_method)
            if intent.error_code:  # Stripe answers a server-side decline with a 402
                raise CardError(intent.error_message, intent.error_code, status=402)
            return intent.record()

        params = {"id": intent_id, "payment_method": payment_method}
        return self._call("confirm_payment_intent", params, None, confirm)

    def create_refund(
        self, *, payment_intent: str, amount: int, metadata: dict[str, str], key: str
    ) -> RefundResult:
        params = {"payment_intent": payment_intent, "amount": amount, "metadata": dict(metadata)}

        def make() -> RefundResult:
            return self._refund(self._intent(payment_intent), amount, metadata).record()

        return self._call("create_refund", params, key, make)

    def create_account(self, *, email: str, country: str, key: str) -> Account:
        def make() -> Account:
            account = StoredAccount(id=self._new_id("acct"), email=email, country=country)
            self.accounts[account.id] = account
            return account.record()

        return self._call("create_account", {"email": email, "country": country}, key, make)

    def retrieve_account(self, account_id: str) -> Account:
        def read() -> Account:
            if account_id not in self.accounts:
                raise _missing("account", account_id)
            return self.accounts[account_id].record()

        return self._call("retrieve_account", {"id": account_id}, None, read)

    def create_account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        def make() -> str:
            if account not in self.accounts:
                raise _missing("account", account)
            url = f"https://connect.stripe.memory/setup/{account}/{next(self._ids)}"
            self.links.append(url)
            return url

        params = {"account": account, "refresh_url": refresh_url, "return_url": return_url}
        return self._call("create_account_link", params, None, make)

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: dict[str, str],
        key: str,
    ) -> Transfer:
        currency = currency.lower()
        params = {
            "amount": amount,
            "currency": currency,
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": dict(metadata),
        }

        def make() -> Transfer:
            if destination not in self.accounts:
                raise _missing("account", destination)
            if self.available[currency] < amount:
                raise CardError(
                    "You have insufficient available funds in your Stripe account.",
                    "balance_insufficient",
                    status=400,
                )
            self.available[currency] -= amount
            transfer = StoredTransfer(
                id=self._new_id("tr"),
                amount=amount,
                currency=currency,
                destination=destination,
                transfer_group=transfer_group,
                metadata={str(k): str(v) for k, v in metadata.items()},
            )
            self.transfers[transfer.id] = transfer
            return Transfer(id=transfer.id, amount=amount, destination=destination)

        return self._call("create_transfer", params, key, make)

    def available_balance(self, currency: str) -> int:
        params = {"currency": currency.lower()}
        return self._call(
            "available_balance", params, None, lambda: self.available[currency.lower()]
        )

    def retrieve_payment_intent_with_charge(self, intent_id: str) -> tuple[Intent, Charge | None]:
        def read() -> tuple[Intent, Charge | None]:
            intent = self._intent(intent_id)
            charge = None
            if intent.charge_id is not None:
                charge = Charge(
                    id=intent.charge_id,
                    status="succeeded",
                    amount=intent.amount,
                    amount_refunded=intent.amount_refunded,
                    currency=intent.currency,
                    fee=0,
                )
            return intent.record(), charge

        return self._call("retrieve_payment_intent_with_charge", {"id": intent_id}, None, read)

    def retrieve_charge_fee(self, charge_id: str) -> ChargeFee | None:
        """Stripe's pricing is not modelled here: every charge's fee is 0 (the fake server's
        tests, tests/settlement/test_processing_fees.py, charge real pricing)."""

        def read() -> ChargeFee:
            for intent in self.intents.values():
                if intent.charge_id == charge_id:
                    return ChargeFee(f"txn_{charge_id}", 0, intent.currency.lower())
            raise _missing("charge", charge_id)

        return self._call("retrieve_charge_fee", {"id": charge_id}, None, read)

    def retrieve_refund(self, refund_id: str) -> RefundResult:
        def read() -> RefundResult:
            if refund_id not in self.refunds:
                raise _missing("refund", refund_id)
            return self.refunds[refund_id].record()

        return self._call("retrieve_refund", {"id": refund_id}, None, read)

    def list_refunds(self, payment_intent: str) -> list[RefundResult]:
        def read() -> list[RefundResult]:
            mine = [r for r in self.refunds.values() if r.payment_intent == payment_intent]
            return [r.record() for r in reversed(mine)]  # newest first, as Stripe lists

        return self._call("list_refunds", {"payment_intent": payment_intent}, None, read)

    def list_transfers(self, transfer_group: str) -> list[TransferRecord]:
        def read() -> list[TransferRecord]:
            mine = [t for t in self.transfers.values() if t.transfer_group == transfer_group]
            return [t.record() for t in reversed(mine)]

        return self._call("list_transfers", {"transfer_group": transfer_group}, None, read)

    @staticmethod
    def parse_event(payload: bytes, signature: str, secret: str) -> Event:
        """As the real gateway: verifying a signature needs no Stripe."""
        return StripeGateway.parse_event(payload, signature, secret)

    # ---- inside -------------------------------------------------------------------------

    def _call(self, method: str, params: dict[str, Any], key: str | None, make: Callable[[], T]):
        """One call: the transaction guard, the record of it, faults, idempotent replay."""
        guard_no_transaction()
        with self._lock:
            self.calls.append(Call(method, params, key))
            fault = next((f for f in self._faults if f.method == method and f.times > 0), None)
            if fault is not None:
                fault.times -= 1
                if not fault.after:
                    if key is not None and isinstance(fault.error, CardError):
                        self._answers[key] = (method, params, fault.error)
                    raise fault.error
            if key is not None and key in self._answers:
                answer = self._replay(method, params, key)
            else:
                try:
                    answer = make()
                except CardError as refusal:  # Stripe keeps a refusal under its key
                    if key is not None:
                        self._answers[key] = (method, params, refusal)
                    raise
                if key is not None:
                    self._answers[key] = (method, params, answer)
            if fault is not None:  # the call was made; its answer is lost on the way back
                raise fault.error
            return answer

    def _replay(self, method: str, params: dict[str, Any], key: str) -> Any:
        first_method, first_params, answer = self._answers[key]
        if (first_method, first_params) != (method, params):
            raise GatewayError(
                "Keys for idempotent requests can only be used with the same parameters they "
                "were first used with.",
                "idempotency_error",
                retryable=False,
                status=400,
            )
        if isinstance(answer, GatewayError):
            raise answer
        return answer

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_mem_{next(self._ids)}"

    def _intent(self, intent_id: str) -> StoredIntent:
        if intent_id not in self.intents:
            raise _missing("payment_intent", intent_id)
        return self.intents[intent_id]

    def _confirm(self, intent: StoredIntent, card: str) -> StoredIntent:
        if intent.status not in CONFIRMABLE:
            raise CardError(
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent.status}.",
                "payment_intent_unexpected_state",
                status=400,
            )
        if card not in CARDS and card not in AUTHENTICATE:
            raise _missing("payment_method", card)
        intent.payment_method = card
        if card in AUTHENTICATE:
            intent.status, intent.error_code, intent.error_message = "requires_action", "", ""
        elif (decline := CARDS[card]) is not None:
            self._decline(intent, decline)
        else:
            self._charge(intent)
        return intent

    def _charge(self, intent: StoredIntent) -> None:
        intent.status, intent.error_code, intent.error_message = "succeeded", "", ""
        intent.charge_id = f"ch_{intent.id.removeprefix('pi_')}"
        self.pending[intent.currency] += intent.amount

    @staticmethod
    def _decline(intent: StoredIntent, decline: tuple[str, str]) -> None:
        intent.status, intent.payment_method = "requires_payment_method", None
        intent.error_code, intent.error_message = decline

    def _refund(self, intent: StoredIntent, amount: int, metadata: dict[str, str]) -> StoredRefund:
        if intent.charge_id is None:
            raise CardError(
                f"PaymentIntent {intent.id} does not have a successful charge to refund.",
                "charge_not_found",
                status=400,
            )
        left = intent.amount - intent.amount_refunded
        if left == 0:
            raise CardError(
                f"Charge {intent.charge_id} has already been refunded.",
                "charge_already_refunded",
                status=400,
            )
        if amount <= 0 or amount > left:
            raise CardError(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                "amount_too_large",
                status=400,
            )
        intent.amount_refunded += amount
        # Refunds draw on the balance: what is available first, then what is pending.
        from_available = min(amount, max(self.available[intent.currency], 0))
        self.available[intent.currency] -= from_available
        self.pending[intent.currency] -= amount - from_available
        refund = StoredRefund(
            id=self._new_id("re"),
            payment_intent=intent.id,
            amount=amount,
            status="pending" if self.refunds_pending else "succeeded",
            metadata={str(k): str(v) for k, v in metadata.items()},
        )
        self.refunds[refund.id] = refund
        return refund
