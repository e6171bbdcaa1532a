"""The one door to Stripe: the only module that imports the SDK.

It turns Stripe objects into small frozen records and Stripe errors into two kinds:
``CardError`` (the card or request was refused: retrying the same call will not help) and
``GatewayError`` with ``retryable`` telling whether a later retry with the same idempotency
key may succeed (timeouts, connection resets, 429, 5xx).

Every call first checks that no database transaction is open in this thread's session, so
no transaction or row lock is ever held while waiting on Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import stripe
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from app.payments import methods

OFFLINE_KEY = "sk_test_offline"  # the fake server accepts any sk_ key


class GatewayError(Exception):
    """A Stripe call that failed; ``retryable`` says whether the same call may succeed later."""

    def __init__(
        self, message: str, code: str = "", retryable: bool = False, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.status = status


class CardError(GatewayError):
    """The card was declined or the request refused: a person must act."""


class TransactionOpen(RuntimeError):
    """A Stripe call was attempted while a database transaction was open."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str  # requires_payment_method, requires_action, processing, succeeded, canceled
    amount: int
    currency: str
    client_secret: str = ""
    charge_id: str | None = None
    error_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending, succeeded, failed, canceled
    amount: int
    failure_reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    id: str
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    # What Stripe still asks for (requirements.currently_due, with past_due), what it is
    # checking (pending_verification), and why the account is disabled, if it is.
    requirements_due: tuple[str, ...] = ()
    pending_verification: tuple[str, ...] = ()
    disabled_reason: str = ""
    capabilities: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    destination: str


@dataclass(frozen=True)
class Charge:
    """A PaymentIntent's charge as Stripe reports it, for reconciliation."""

    id: str
    status: str  # succeeded, pending, failed
    amount: int
    amount_refunded: int
    currency: str
    fee: int | None = None  # its balance transaction's processing fee; None: none yet


@dataclass(frozen=True)
class ChargeFee:
    """What Stripe kept of a charge: its balance transaction's fee (minor units)."""

    balance_transaction_id: str
    fee: int
    currency: str  # the balance transaction's (settlement) currency, lower case


@dataclass(frozen=True)
class TransferRecord:
    """A transfer as Stripe lists it, reversals included, for reconciliation."""

    id: str
    amount: int
    amount_reversed: int
    currency: str
    destination: str
    transfer_group: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    data: dict[str, Any]  # the event's data.object, as a plain dict


def guard_no_transaction() -> None:
    """Refuse a Stripe call while this thread's session has a transaction open (any gateway,
    the tests' in-memory one too, calls this first)."""
    from flask import has_app_context

    if not has_app_context():
        return
    from app.extensions import db

    if db.session().in_transaction():
        raise TransactionOpen("commit (or roll back) before calling Stripe")


def _translate(error: stripe.StripeError) -> GatewayError:
    status = getattr(error, "http_status", None)
    code = getattr(error, "code", "") or ""
    message = getattr(error, "user_message", None) or str(error) or "Stripe error"
    if isinstance(error, stripe.CardError):
        return CardError(message, code, retryable=False, status=status)
    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError):
        return GatewayError(message, code or "rate_limit", retryable=True, status=status)
    if isinstance(error, stripe.IdempotencyError):
        return GatewayError(message, code or "idempotency_error", retryable=False, status=status)
    if status is None or status >= 500 or status == 429:
        return GatewayError(message, code, retryable=True, status=status)
    return CardError(message, code, retryable=False, status=status)


def _intent(pi: Any) -> Intent:
    charge = pi.latest_charge
    charge_id = charge if isinstance(charge, str) or charge is None else charge.id
    error = pi.last_payment_error
    message = (error.message if error is not None else "") or ""
    if error is not None:
        method_type = getattr(error, "payment_method_type", None) or (
            error.payment_method.type if getattr(error, "payment_method", None) else None
        )
        message = methods.failure_message(getattr(error, "code", None), message, method_type)
    return Intent(
        id=pi.id,
        status=pi.status,
        amount=pi.amount,
        currency=pi.currency,
        client_secret=pi.client_secret or "",
        charge_id=charge_id,
        error_message=message,
        metadata=pi.metadata.to_dict() if pi.metadata else {},
    )


class StripeGateway:
    """Stripe through the real SDK; offline it talks to the local fake server."""

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        *,
        attempts: int = 3,
        max_wait: float = 8.0,
        rate_limit: int = 25,
    ) -> None:
        base = {"api": api_base, "connect": api_base, "files": api_base} if api_base else None
        # The SDK's own retries are off: ours below back off with jitter and cover 429s.
        self.client = stripe.StripeClient(
            secret_key or OFFLINE_KEY, base_addresses=base, max_network_retries=0
        )
        self.attempts = max(1, attempts)
        self.max_wait = max_wait
        # Stripe allows about 25 requests/s in test mode and 100/s live: stay under it.
        # 0 turns the throttle off (benchmarks of our own bookkeeping).
        self.limiter = Limiter(Rate(rate_limit, Duration.SECOND)) if rate_limit > 0 else None

    def _call(self, fn, params: dict[str, Any], key: str | None = None, *args):
        """One Stripe call: throttled, retried on passing failures with the same key."""
        guard_no_transaction()
        options = {"idempotency_key": key} if key else None
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=0.25, max=self.max_wait),
            retry=retry_if_exception(lambda e: isinstance(e, GatewayError) and e.retryable),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                if self.limiter is not None:
                    self.limiter.try_acquire("stripe", blocking=True)
                try:
                    return fn(*args, params, options) if options else fn(*args, params)
                except stripe.StripeError as error:
                    raise _translate(error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- customers and payments ------------------------------------------------------

    def create_customer(self, email: str, name: str, key: str) -> str:
        customer = self._call(self.client.v1.customers.create, {"email": email, "name": name}, key)
        return customer.id

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
        """A pledge's PaymentIntent; the backer confirms it in the browser with any of the
        payment_method_types (card, and for CNY alipay and wechat_pay: see methods.py)."""
        pi = self._call(
            self.client.v1.payment_intents.create,
            {
                "amount": amount,
                "currency": currency.lower(),
                "customer": customer,
                "metadata": metadata,
                "transfer_group": transfer_group,
                "description": description,
                "payment_method_types": list(payment_method_types),
            },
            key,
        )
        return _intent(pi)

    def retrieve_payment_intent(self, intent_id: str) -> Intent:
        return _intent(self._call(self.client.v1.payment_intents.retrieve, {}, None, intent_id))

    def cancel_payment_intent(self, intent_id: str) -> Intent:
        return _intent(self._call(self.client.v1.payment_intents.cancel, {}, None, intent_id))

    def confirm_payment_intent(self, intent_id: str, payment_method: str) -> Intent:
        """Confirm an intent server-side with a payment method: for demo data and tests.

        In the product the browser confirms with Stripe.js, so card details never reach us.
        """
        return _intent(
            self._call(
                self.client.v1.payment_intents.confirm,
                {"payment_method": payment_method},
                None,
                intent_id,
            )
        )

    def create_refund(
        self, *, payment_intent: str, amount: int, metadata: dict[str, str], key: str
    ) -> RefundResult:
        refund = self._call(
            self.client.v1.refunds.create,
            {
                "payment_intent": payment_intent,
                "amount": amount,
                "metadata": metadata,
            },
            key,
        )
        return _refund(refund)

    # ---- Connect ---------------------------------------------------------------------

    def create_account(self, *, email: str, country: str, key: str) -> Account:
        account = self._call(
            self.client.v1.accounts.create,
            {
                "type": "express",
                "email": email,
                "country": country,
                "capabilities": {"transfers": {"requested": True}},
            },
            key,
        )
        return _account(account)

    def retrieve_account(self, account_id: str) -> Account:
        return _account(self._call(self.client.v1.accounts.retrieve, {}, None, account_id))

    def create_account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        link = self._call(
            self.client.v1.account_links.create,
            {
                "account": account,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return link.url

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
        transfer = self._call(
            self.client.v1.transfers.create,
            {
                "amount": amount,
                "currency": currency.lower(),
                "destination": destination,
                "transfer_group": transfer_group,
                "metadata": metadata,
            },
            key,
        )
        return Transfer(id=transfer.id, amount=transfer.amount, destination=destination)

    def available_balance(self, currency: str) -> int:
        balance = self._call(self.client.v1.balance.retrieve, {})
        return sum(f.amount for f in balance.available if f.currency == currency.lower())

    # ---- reading back, for reconciliation -----------------------------------------------

    def retrieve_payment_intent_with_charge(self, intent_id: str) -> tuple[Intent, Charge | None]:
        """The intent, its latest charge and that charge's processing fee, in one call
        (``expand=latest_charge.balance_transaction``)."""
        pi = self._call(
            self.client.v1.payment_intents.retrieve,
            {"expand": ["latest_charge.balance_transaction"]},
            None,
            intent_id,
        )
        charge = pi.latest_charge
        if isinstance(charge, str):  # not expanded: fetch it
            charge = self._call(
                self.client.v1.charges.retrieve, {"expand": ["balance_transaction"]}, None, charge
            )
        record = None
        if charge is not None:
            txn = charge.balance_transaction
            if isinstance(txn, str):
                txn = self._call(self.client.v1.balance_transactions.retrieve, {}, None, txn)
            record = Charge(
                id=charge.id,
                status=charge.status,
                amount=charge.amount,
                amount_refunded=charge.amount_refunded or 0,
                currency=charge.currency,
                fee=int(txn.fee) if txn is not None else None,
            )
        return _intent(pi), record

    def retrieve_charge_fee(self, charge_id: str) -> ChargeFee | None:
        """The processing fee of a charge, from its balance transaction (one call, expanded);
        None while the charge has no balance transaction yet."""
        charge = self._call(
            self.client.v1.charges.retrieve, {"expand": ["balance_transaction"]}, None, charge_id
        )
        txn = charge.balance_transaction
        if txn is None:
            return None
        if isinstance(txn, str):  # not expanded: fetch it
            txn = self._call(self.client.v1.balance_transactions.retrieve, {}, None, txn)
        return ChargeFee(balance_transaction_id=txn.id, fee=int(txn.fee), currency=txn.currency)

    def retrieve_refund(self, refund_id: str) -> RefundResult:
        refund = self._call(self.client.v1.refunds.retrieve, {}, None, refund_id)
        return _refund(refund)

    def list_refunds(self, payment_intent: str) -> list[RefundResult]:
        """Every refund of a PaymentIntent, made by us or anyone else, page by page."""
        return [
            _refund(refund)
            for refund in self._list(
                self.client.v1.refunds.list, {"payment_intent": payment_intent}
            )
        ]

    def list_transfers(self, transfer_group: str) -> list[TransferRecord]:
        """Every transfer of a transfer group, page by page."""
        return [
            TransferRecord(
                id=transfer.id,
                amount=transfer.amount,
                amount_reversed=transfer.amount_reversed or 0,
                currency=transfer.currency,
                destination=transfer.destination
                if isinstance(transfer.destination, str) or transfer.destination is None
                else transfer.destination.id,
                transfer_group=transfer.transfer_group or "",
                metadata=transfer.metadata.to_dict() if transfer.metadata else {},
            )
            for transfer in self._list(
                self.client.v1.transfers.list, {"transfer_group": transfer_group}
            )
        ]

    def _list(self, fn, params: dict[str, Any], page_size: int = 100) -> list[Any]:
        """All objects of a list call, following ``has_more`` with ``starting_after``."""
        objects: list[Any] = []
        after = None
        while True:
            page = self._call(
                fn, {**params, "limit": page_size, **({"starting_after": after} if after else {})}
            )
            objects.extend(page.data)
            if not page.has_more or not page.data:
                return objects
            after = page.data[-1].id

    # ---- webhooks --------------------------------------------------------------------

    @staticmethod
    def parse_event(payload: bytes, signature: str, secret: str) -> Event:
        """Verify the signature on the raw body; ValueError when it does not hold."""
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
            parsed = Event(id=event.id, type=event.type, data=event.data.object.to_dict())
        except stripe.SignatureVerificationError as error:
            raise ValueError(f"bad signature: {error.user_message or error}") from None
        except (AttributeError, KeyError, TypeError):  # signed, but JSON that is no event
            raise ValueError("not an event: no id, type or data object") from None
        if not (isinstance(parsed.id, str) and isinstance(parsed.type, str)):
            raise ValueError("not an event: its id and type are not strings")
        return parsed


def _refund(refund: Any) -> RefundResult:
    return RefundResult(
        id=refund.id,
        status=refund.status,
        amount=refund.amount,
        failure_reason=getattr(refund, "failure_reason", "") or "",
        metadata=refund.metadata.to_dict() if refund.metadata else {},
    )


def _account(account: Any) -> Account:
    return account_from_payload(account.to_dict())


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value or () if isinstance(v, str))


def account_from_payload(account: Any) -> Account:
    """An Account from an account as a plain dict: the SDK's ``to_dict()`` or a webhook's
    ``data.object``."""

    def get(obj: Any, name: str) -> Any:
        return obj[name] if obj is not None and name in obj else None

    requirements = get(account, "requirements")
    due = _strings(get(requirements, "currently_due")) + _strings(get(requirements, "past_due"))
    capabilities = get(account, "capabilities") or {}
    return Account(
        id=account["id"],
        details_submitted=bool(get(account, "details_submitted")),
        charges_enabled=bool(get(account, "charges_enabled")),
        payouts_enabled=bool(get(account, "payouts_enabled")),
        requirements_due=tuple(dict.fromkeys(due)),
        pending_verification=_strings(get(requirements, "pending_verification")),
        disabled_reason=get(requirements, "disabled_reason") or "",
        capabilities={
            str(name): status for name, status in capabilities.items() if isinstance(status, str)
        },
    )
