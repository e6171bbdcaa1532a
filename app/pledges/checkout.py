"""Workflows that talk to Stripe: pledging, changing, cancelling, refunds, webhooks, sweeps.

Each follows the ritual of ``app.workflow``: a short transaction writes what is about to
happen (a pending payment or refund row, with its idempotency key) and commits; Stripe is
called with no transaction open (the gateway refuses otherwise); a short transaction records
the result with a conditional UPDATE, so a browser return, a webhook and a sweep can all report
the same payment and it still counts once. A crash between steps leaves a pending row that the
sweeps (``sweep_expired_payments``, ``resume_refunds``) finish later with the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.accounts.models import User
from app.extensions import db
from app.i18n import N_
from app.payments import gateway, methods, webhooks
from app.payments.gateway import CardError, GatewayError
from app.pledges import services
from app.pledges.domain import PledgeRefused
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, StripeEvent
from app.pledges.services import fees
from app.projects.models import Project
from app.referrals import Source
from app.workflow import step, transaction

log = logging.getLogger(__name__)
UNREACHABLE = N_(
    "We could not reach the payment provider, so nothing was charged. Please try again in a moment."
)
ALREADY_BACKED = N_("You have already backed this project: change your pledge instead.")


@dataclass(frozen=True)
class Customer:
    """The backer, as the Stripe customer a PaymentIntent is made for."""

    user_id: int
    email: str
    name: str
    stripe_id: str | None

    @classmethod
    def of(cls, user: User) -> Customer:
        return cls(user.id, user.email, user.display_name, user.stripe_customer_id)


@dataclass(frozen=True)
class Started:
    pledge_id: int
    payment_id: int


def begin_pledge(
    backer_id: int, project_id: int, terms: services.Terms, source: Source | None = None
) -> Started:
    """Reserve a place, then open a PaymentIntent for the backer to pay on the pay page;
    ``source`` is where the backer came from (a referral tag, another site)."""
    with transaction():
        backer = db.session.get(User, backer_id)
        project = db.session.get(Project, project_id)
        try:
            payment = services.start_pledge(backer, project, terms, clock.now(), source)
        except IntegrityError:  # a double submit raced us to the one open pledge
            raise PledgeRefused(gettext(ALREADY_BACKED)) from None
        # a PledgeRefused (e.g. sold out) rolls back: nothing of this attempt is kept
        started = Started(payment.pledge_id, payment.id)
        customer, params = Customer.of(backer), intent_params(payment, project)
    open_intent(started.payment_id, customer, params)
    return started


def intent_params(payment: Payment, project: Project) -> dict:
    return dict(
        amount=payment.amount,
        currency=payment.currency,
        metadata={
            "pledge_id": str(payment.pledge_id),
            "payment_id": str(payment.id),
            "project_id": str(project.id),
        },
        transfer_group=f"project-{project.id}",
        description=f"Pledge {payment.pledge_id} to {project.title}"[:200],
        key=payment.idempotency_key,
        payment_method_types=methods.payment_method_types(payment.currency),
    )


def open_intent(payment_id: int, customer: Customer, params: dict) -> None:
    """Create the PaymentIntent (and the backer's Stripe customer, the first time).

    Called with no transaction open; the keys make a retry after a crash safe. If Stripe
    cannot be reached the payment is abandoned, which releases the reward place.
    """
    created = None
    try:
        if customer.stripe_id is None:
            key = services.idempotency_key("customer", customer.user_id)
            created = gateway().create_customer(customer.email, customer.name, key)
        intent = gateway().create_payment_intent(customer=customer.stripe_id or created, **params)
    except GatewayError as error:
        log.warning("payment %s: could not open a PaymentIntent: %s", payment_id, error)
        with transaction():
            services.payment_abandoned(payment_id, "The payment could not start.")
            _remember_customer(customer.user_id, created)
        raise PledgeRefused(gettext(UNREACHABLE)) from None
    with transaction():
        _remember_customer(customer.user_id, created)
        services.attach_intent(payment_id, intent.id, intent.client_secret)


def _remember_customer(user_id: int, stripe_id: str | None) -> None:
    if stripe_id is not None:
        db.session.execute(
            update(User).where(User.id == user_id).values(stripe_customer_id=stripe_id)
        )


class RefundOutcome(StrEnum):
    """What became of one refund call."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"  # Stripe is still processing it; booked once it says it succeeded
    REFUSED = "refused"  # a definitive no: an admin retries it
    RETRY = "retry"  # Stripe could not be reached: a sweep makes it again with the same key


@dataclass(frozen=True)
class RefundResult:
    """What became of one refund call."""

    refund_id: int
    status: RefundOutcome


@dataclass(frozen=True)
class RefundCall:
    """What one refund needs from Stripe, read before any call is made."""

    refund_id: int
    payment_intent: str
    amount: int
    key: str
    pledge_id: int


@dataclass(frozen=True)
class RefundAnswer:
    """Stripe's answer to one refund call: the outcome, and the Stripe refund id (succeeded,
    pending) or the reason (refused, retry)."""

    call: RefundCall
    outcome: RefundOutcome
    detail: str


def call_refund(gw, call: RefundCall) -> RefundAnswer:
    """Make one refund at Stripe with its stored key; only the call, no database (settlement
    runs this in worker threads)."""
    try:
        result = gw.create_refund(
            payment_intent=call.payment_intent,
            amount=call.amount,
            key=call.key,
            metadata={"refund_id": str(call.refund_id), "pledge_id": str(call.pledge_id)},
        )
    except CardError as error:
        return RefundAnswer(call, RefundOutcome.REFUSED, error.message)
    except GatewayError as error:
        log.warning("refund %s: will retry: %s", call.refund_id, error)
        return RefundAnswer(call, RefundOutcome.RETRY, error.message)
    if result.status == "failed":
        return RefundAnswer(call, RefundOutcome.REFUSED, result.failure_reason or "refused")
    if result.status in ("pending", "requires_action"):
        return RefundAnswer(call, RefundOutcome.PENDING, result.id)
    return RefundAnswer(call, RefundOutcome.SUCCEEDED, result.id)


def record_refund_answer(answer: RefundAnswer) -> RefundResult:
    """Record one refund's answer (conditionally: a webhook may have told us first)."""
    refund_id, detail = answer.call.refund_id, answer.detail
    match answer.outcome:
        case RefundOutcome.SUCCEEDED:
            services.refund_succeeded(refund_id, detail)
        case RefundOutcome.PENDING:
            services.record_refunds_processing([(refund_id, detail)])
        case RefundOutcome.REFUSED:
            services.refund_refused(refund_id, detail)
        case RefundOutcome.RETRY:
            services.refund_attempt_failed(refund_id, detail)
    return RefundResult(refund_id, answer.outcome)


@dataclass(frozen=True)
class Changed:
    payment_id: int | None = None  # an increase: its payment waits on the pay page
    refunds: tuple[RefundResult, ...] = ()

    @property
    def pays(self) -> bool:
        return self.payment_id is not None


def refund_message(results: list[RefundResult] | tuple[RefundResult, ...]) -> tuple[str, str]:
    """What to tell the backer of their refunds, true to what Stripe answered:
    (message, flash category)."""
    statuses = {r.status for r in results}
    if not statuses:
        return "", "info"
    if RefundOutcome.REFUSED in statuses:
        return (
            gettext(
                "The payment provider refused the refund, so the money is still held safely "
                "for you; our team has been told and will return it."
            ),
            "warning",
        )
    if RefundOutcome.RETRY in statuses:
        return (
            gettext(
                "We could not reach the payment provider just now. Your refund is recorded and "
                "will be made automatically within minutes."
            ),
            "warning",
        )
    if RefundOutcome.PENDING in statuses:
        return (
            gettext("Your refund is started; the payment provider is still processing it."),
            "info",
        )
    return (
        gettext("Your money is on its way back to your card (banks take 5 to 10 business days)."),
        "info",
    )


def begin_change(pledge_id: int, terms: services.Terms, seen_version: int | None = None) -> Changed:
    """Change a held pledge: the extra payment's intent, or the difference refunded."""
    opening = None
    with transaction():
        try:
            plan = services.change_pledge(pledge_id, terms, clock.now(), seen_version)
        except IntegrityError:
            raise PledgeRefused(gettext("A payment for this pledge is already open.")) from None
        if (payment := plan.payment) is not None:  # an extra payment: its intent after commit
            pledge = payment.pledge
            params = intent_params(payment, pledge.project)
            opening = (payment.id, Customer.of(pledge.backer), params)
        refund_ids = [r.id for r in plan.refunds]
    if opening is not None:
        open_intent(*opening)
        return Changed(payment_id=opening[0])
    return Changed(refunds=tuple(run_refunds(refund_ids)))


def cancel(pledge_id: int, seen_version: int | None = None) -> list[RefundResult]:
    """Cancel a held pledge and make its refunds; what Stripe said of each."""
    with transaction():
        ids = [r.id for r in services.cancel_pledge(pledge_id, clock.now(), seen_version)]
    return run_refunds(ids)


class Confirmed(StrEnum):
    HELD = "held"
    TOO_LATE = "too_late"  # paid after the project closed or the pledge moved: refunded
    DECLINED = "declined"
    PROCESSING = "processing"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class Confirmation:
    status: Confirmed
    message: str = ""


def confirm(payment_id: int) -> Confirmation:
    """Ask Stripe how a payment went (when the browser returns) and record it once."""
    with transaction():
        payment = db.session.get(Payment, payment_id)
        intent_id, state = payment.stripe_payment_intent_id, payment.status
    if state is PaymentStatus.SUCCEEDED:
        return Confirmation(Confirmed.HELD)
    if state is PaymentStatus.FAILED or intent_id is None:
        return Confirmation(Confirmed.ABANDONED)
    intent = gateway().retrieve_payment_intent(intent_id)
    return record_intent(payment_id, intent.status, intent.charge_id, intent.error_message)


LATE_MESSAGES = {
    services.PROJECT_CLOSED: N_(
        "The project closed before your payment completed, so we are refunding it in full."
    ),
    services.PLEDGE_MOVED: N_(
        "Your pledge had already changed (it was cancelled or is being refunded) when this "
        "payment completed, so it does not count and we are refunding it in full."
    ),
}


def record_intent(
    payment_id: int, status: str, charge_id: str | None, error_message: str = ""
) -> Confirmation:
    """Record what Stripe says of a payment; safe to call any number of times."""
    if status == "succeeded":
        with transaction():
            outcome = services.payment_succeeded(payment_id, charge_id, clock.now())
        if charge_id and not outcome.already_handled:
            _read_fee_now(payment_id, charge_id)
        if outcome.refund_ids:
            run_refunds(list(outcome.refund_ids))
        if not outcome.accepted:
            message = LATE_MESSAGES.get(outcome.reason, LATE_MESSAGES[services.PROJECT_CLOSED])
            return Confirmation(Confirmed.TOO_LATE, gettext(message))
        return Confirmation(Confirmed.HELD)
    with transaction():
        if status == "canceled":
            services.payment_abandoned(payment_id, "The payment was cancelled.")
            return Confirmation(Confirmed.ABANDONED)
        if status == "requires_payment_method" and error_message:
            services.payment_declined(payment_id, error_message)
            return Confirmation(Confirmed.DECLINED, error_message)
        return Confirmation(Confirmed.PROCESSING)


def abandon(payment_id: int, reason: str, expired: bool = False) -> None:
    """Stop a payment that has not succeeded: cancel its intent first, so it never can."""
    with transaction():
        intent_id = db.session.get(Payment, payment_id).stripe_payment_intent_id
    if intent_id:
        try:
            intent = gateway().cancel_payment_intent(intent_id)
        except CardError:
            intent = gateway().retrieve_payment_intent(intent_id)  # it may have succeeded
        if intent.status == "succeeded":
            record_intent(payment_id, "succeeded", intent.charge_id)
            return
    with transaction():
        services.payment_abandoned(payment_id, reason, expired=expired)


def sweep_expired_payments() -> int:
    """Close payments whose reservation ran out, releasing their reward places."""
    with transaction():
        expired = services.expired_payments(clock.now())
    for payment_id, _intent in expired:
        try:
            abandon(payment_id, "The payment was not completed in time.", expired=True)
        except GatewayError as error:
            db.session.rollback()
            log.warning("payment %s: expiry postponed: %s", payment_id, error)
    return len(expired)


def run_refunds(refund_ids: list[int]) -> list[RefundResult]:
    return [execute_refund(refund_id) for refund_id in refund_ids]


def execute_refund(refund_id: int) -> RefundResult:
    """Make one refund at Stripe with its stored key, and record the answer."""
    return step(
        lambda: refund_call(refund_id),
        lambda call: call_refund(gateway(), call),
        lambda _call, answer: record_refund_answer(answer),
    )


def refund_call(refund_id: int) -> RefundCall:
    refund = db.session.get(Refund, refund_id)
    return RefundCall(
        refund.id,
        refund.payment.stripe_payment_intent_id,
        refund.amount,
        refund.idempotency_key,
        refund.pledge_id,
    )


def retry_refused_refund(pledge_id: int) -> None:
    with transaction():
        ids = [r.id for r in services.retry_refund(db.session.get(Pledge, pledge_id))]
    run_refunds(ids)


def resume_refunds() -> int:
    """Finish refunds left pending by a crash or a passing Stripe failure."""
    with transaction():
        ids = services.pending_refunds()
    run_refunds(ids)
    return len(ids)


def recheck_open_payments() -> int:
    """Ask Stripe about payments open for a few minutes: one charged while the platform could
    not book it (the return page and the webhook both failed) is held within minutes, not at
    the end of its reservation."""
    now = clock.now()
    older = now - timedelta(minutes=current_app.config["STRIPE_RECHECK_MINUTES"])
    with transaction():
        open_ids = services.open_payments_to_recheck(older, now)
    for payment_id, intent_id in open_ids:
        try:
            intent = gateway().retrieve_payment_intent(intent_id)
        except GatewayError as error:
            log.warning("payment %s: not re-read: %s", payment_id, error)
            continue
        if intent.status in ("succeeded", "canceled"):
            record_intent(payment_id, intent.status, intent.charge_id, intent.error_message)
    return len(open_ids)


def recheck_processing_refunds() -> int:
    """Ask Stripe about refunds it has had as pending for a while (their webhook may have been
    lost) and record what it says now."""
    older = clock.now() - timedelta(minutes=current_app.config["STRIPE_RECHECK_MINUTES"])
    with transaction():
        waiting = services.processing_refunds(older)
    for refund_id, stripe_id in waiting:
        try:
            theirs = gateway().retrieve_refund(stripe_id)
        except GatewayError as error:
            log.warning("refund %s: not re-read: %s", refund_id, error)
            continue
        with transaction():
            payment_id = db.session.scalar(select(Refund.payment_id).where(Refund.id == refund_id))
            _record_refund_news(payment_id, theirs.id, theirs.status, theirs.amount,
                                {"refund_id": str(refund_id)}, theirs.failure_reason)  # fmt: skip
    return len(waiting)


def _fee_of(payment_id: int, charge_id: str):
    """Stripe's fee of one charge, or None while it has none or Stripe does not answer (the
    sweep, ``read_processing_fees``, asks again later)."""
    try:
        return gateway().retrieve_charge_fee(charge_id)
    except GatewayError as error:
        log.info("payment %s: processing fee not read yet: %s", payment_id, error)
        return None


def _book_fees(answers: list) -> int:
    with transaction():
        return sum(
            fees.fee_read(pid, fee.balance_transaction_id, fee.fee, fee.currency)
            for pid, fee in answers
            if fee is not None
        )


def _read_fee_now(payment_id: int, charge_id: str) -> None:
    """Read a payment's processing fee as soon as it succeeded."""
    _book_fees([(payment_id, _fee_of(payment_id, charge_id))])


def read_processing_fees(project_id: int | None = None, limit: int = 200) -> int:
    """Read Stripe's fee of succeeded payments not read yet (oldest first) from their
    charges' balance transactions, and book each once; returns how many were read. A call
    that fails leaves its payment for the next sweep."""
    with transaction():
        unread = fees.unread(limit, project_id)
    return _book_fees([(pid, _fee_of(pid, charge)) for pid, charge in unread])


# ---- webhooks ---------------------------------------------------------------------------


class Malformed(Exception):
    """A signed event without a field its handler needs."""


def handle_event(event_id: str, event_type: str, obj: dict) -> str:
    """Apply a verified webhook event once; later or repeated deliveries change nothing.

    The event id is stored in the transaction of the handler's writes, so the event counts as
    handled exactly when they are kept. A handler that must ask Stripe ends that transaction
    first (a nested ``transaction()``). A signed event missing a field we need is logged and
    answered 200 (so Stripe does not retry it for days), never a 500; it moves nothing."""
    try:
        with transaction():
            if not _first_delivery(event_id, event_type):
                return "duplicate"
            handler = webhooks.HANDLERS.get(event_type)
            if handler is None:
                return "ignored"
            return handler(obj) or "ok"
    except GatewayError:
        # The handler asked Stripe and could not hear back: forget the event, so that the
        # 503 this becomes makes Stripe deliver it again and the retry runs it in full.
        with transaction():
            db.session.execute(delete(StripeEvent).where(StripeEvent.id == event_id))
        raise
    except (Malformed, KeyError, TypeError, AttributeError) as error:
        log.warning("webhook %s (%s) is malformed, nothing done: %r", event_id, event_type, error)
        _remember_event(event_id, event_type)
        return "malformed"


def _first_delivery(event_id: str, event_type: str) -> bool:
    """Store the event's id; False if it was delivered before (or is being handled now)."""
    if db.session.get(StripeEvent, event_id) is not None:
        return False
    db.session.add(StripeEvent(id=event_id, type=event_type))
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent delivery of the same event stored it first
        db.session.rollback()
        return False
    return True


def _remember_event(event_id: str, event_type: str) -> None:
    try:
        with transaction():
            db.session.add(StripeEvent(id=event_id, type=event_type))
    except IntegrityError:
        pass  # already remembered


def _text(obj: dict, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise Malformed(f"no {name}")
    return value


def _payment_for_intent(intent_id: str | None) -> Payment | None:
    if not intent_id:
        return None
    return db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))


def _disagreement(payment: Payment, obj: dict) -> str:
    """How a signed PaymentIntent differs from the payment row it names ("" if it agrees)."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise Malformed("no metadata")
    amount, currency = obj.get("amount"), obj.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        raise Malformed("no amount or currency")
    problems = []
    if amount != payment.amount:
        problems.append(f"amount {amount}, ours {payment.amount}")
    if currency.upper() != payment.currency:
        problems.append(f"currency {currency}, ours {payment.currency}")
    for name, ours in (("payment_id", payment.id), ("pledge_id", payment.pledge_id)):
        if metadata.get(name) != str(ours):
            problems.append(f"metadata {name} {metadata.get(name)!r}, ours {ours}")
    return "; ".join(problems)


def _on_intent_succeeded(obj: dict) -> str | None:
    payment = _payment_for_intent(_text(obj, "id"))
    if payment is None:
        return "unknown payment"
    if problem := _disagreement(payment, obj):
        return _flag(payment, f"payment_intent.succeeded for {obj['id']} disagrees: {problem}")
    charge = obj.get("latest_charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    record_intent(payment.id, "succeeded", charge_id)
    return None


def _flag(payment: Payment, note: str) -> str:
    """A signed event that disagrees with our rows moves nothing: an admin looks at it."""
    log.error("payment %s: %s", payment.id, note)
    services.flag_for_attention(payment.pledge_id, note)
    return "mismatch"


def _on_intent_failed(obj: dict) -> str | None:
    payment = _payment_for_intent(_text(obj, "id"))
    if payment is not None:
        error = obj.get("last_payment_error") or {}
        method = error.get("payment_method") if isinstance(error, dict) else None
        message = methods.failure_message(
            error.get("code"),
            error.get("message") or "The card was declined.",
            error.get("payment_method_type") or (method or {}).get("type"),
        )
        services.payment_declined(payment.id, message)
    return None


def _on_charge_refunded(obj: dict) -> str | None:
    """A charge was refunded, by us or in Stripe's dashboard. Since API version 2022-11-15 the
    event does not carry the charge's refunds, so they are listed from Stripe."""
    with transaction():  # the event is stored; no transaction across the call
        payment = _payment_for_intent(_text(obj, "payment_intent"))
        if payment is None:
            return "unknown payment"
        payment_id, intent_id = payment.id, payment.stripe_payment_intent_id
    refunds = gateway().list_refunds(intent_id)  # a GatewayError: Stripe delivers it again
    for refund in refunds:
        _record_refund_news(payment_id, refund.id, refund.status, refund.amount,
                            refund.metadata, refund.failure_reason)  # fmt: skip
    return None


def _on_refund_updated(obj: dict) -> str | None:
    """refund.created/updated/failed and charge.refund.updated: a refund's news."""
    payment = _payment_for_intent(_text(obj, "payment_intent"))
    if payment is None:
        return "unknown payment"
    amount = obj.get("amount")
    if not isinstance(amount, int):
        raise Malformed("no amount")
    _record_refund_news(payment.id, _text(obj, "id"), _text(obj, "status"), amount,
                        obj.get("metadata") or {}, obj.get("failure_reason") or "")  # fmt: skip
    return None


def _record_refund_news(
    payment_id: int, stripe_id: str, status: str, amount: int, metadata: dict, failure: str
) -> None:
    """Move one refund forward as Stripe reports it; an unknown one was made outside."""
    ours = str(metadata.get("refund_id") or "")
    refund = db.session.get(Refund, int(ours)) if ours.isdigit() and len(ours) < 12 else None
    if refund is None:
        refund = db.session.scalar(select(Refund).where(Refund.stripe_refund_id == stripe_id))
    if refund is not None and refund.payment_id != payment_id:
        services.flag_for_attention(
            refund.pledge_id, f"refund {stripe_id} names refund {refund.id} of another payment"
        )
        return
    if refund is None:
        if status in ("succeeded", "pending"):
            services.external_refund(db.session.get(Payment, payment_id), stripe_id, amount)
        return
    if refund.amount != amount:
        services.flag_for_attention(
            refund.pledge_id, f"refund {stripe_id} is for {amount}, ours {refund.amount}"
        )
        return
    if status == "succeeded":
        services.refund_succeeded(refund.id, stripe_id)
    elif status in ("pending", "requires_action"):
        services.record_refunds_processing([(refund.id, stripe_id)])
    elif status in ("failed", "canceled"):
        services.refund_failed(refund.id, failure or status)


def _on_dispute(obj: dict) -> str | None:
    payment = _payment_for_intent(obj.get("payment_intent"))
    if payment is None and obj.get("charge"):
        payment = db.session.scalar(
            select(Payment).where(Payment.stripe_charge_id == obj["charge"])
        )
    if payment is not None:
        services.flag_dispute(payment)
    return None


def register_webhooks() -> None:
    webhooks.register(
        {
            "payment_intent.succeeded": _on_intent_succeeded,
            "payment_intent.payment_failed": _on_intent_failed,
            "charge.refunded": _on_charge_refunded,
            "refund.created": _on_refund_updated,
            "refund.updated": _on_refund_updated,
            "refund.failed": _on_refund_updated,
            "charge.refund.updated": _on_refund_updated,
            "charge.dispute.created": _on_dispute,
        }
    )
