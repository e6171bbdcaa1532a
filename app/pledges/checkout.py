"""Workflows that talk to Stripe: each database step commits before Stripe is called.

The pattern, everywhere: (1) a short transaction writes what is about to happen (a pending
payment or refund row, with its idempotency key) and commits; (2) Stripe is called with no
transaction open (the gateway refuses otherwise); (3) a short transaction records the result
with a conditional UPDATE, so a browser return, a webhook and a sweep can all report the same
payment and it still counts once. A crash between steps leaves a pending row that the sweeps
(``sweep_expired_payments``, ``resume_refunds``) finish later with the same key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.accounts.models import User
from app.extensions import db
from app.payments import gateway
from app.payments.gateway import CardError, GatewayError
from app.pledges import services
from app.pledges.domain import PledgeRefused
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, StripeEvent
from app.projects.models import Project

log = logging.getLogger(__name__)
UNREACHABLE = (
    "We could not reach the payment provider, so nothing was charged. Please try again in a moment."
)


ALREADY_BACKED = "You have already backed this project: change your pledge instead."


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


def begin_pledge(backer_id: int, project_id: int, terms: services.Terms) -> Started:
    """Reserve a place, then open a PaymentIntent for the backer to pay on the pay page."""
    backer = db.session.get(User, backer_id)
    project = db.session.get(Project, project_id)
    try:
        payment = services.start_pledge(backer, project, terms, clock.now())
    except IntegrityError:  # a double submit raced us to the one open pledge
        db.session.rollback()
        raise PledgeRefused(ALREADY_BACKED) from None
    except PledgeRefused:  # e.g. sold out: nothing of this attempt may be committed
        db.session.rollback()
        raise
    started = Started(payment.pledge_id, payment.id)
    customer, params = Customer.of(backer), intent_params(payment, project)
    db.session.commit()
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
        services.payment_abandoned(payment_id, "The payment could not start.")
        _remember_customer(customer.user_id, created)
        db.session.commit()
        raise PledgeRefused(UNREACHABLE) from None
    _remember_customer(customer.user_id, created)
    services.attach_intent(payment_id, intent.id, intent.client_secret)
    db.session.commit()


def _remember_customer(user_id: int, stripe_id: str | None) -> None:
    if stripe_id is not None:
        db.session.execute(
            update(User).where(User.id == user_id).values(stripe_customer_id=stripe_id)
        )


def begin_change(pledge_id: int, terms: services.Terms) -> services.ChangePlan:
    pledge = db.session.get(Pledge, pledge_id)
    opening = None
    try:
        plan = services.change_pledge(pledge, terms, clock.now())
        if (payment := plan.payment) is not None:  # an extra payment: its intent after commit
            params = intent_params(payment, pledge.project)
            opening = (payment.id, Customer.of(pledge.backer), params)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PledgeRefused("A payment for this pledge is already open.") from None
    if opening is not None:
        open_intent(*opening)
    run_refunds([r.id for r in plan.refunds])
    return plan


def cancel(pledge_id: int) -> None:
    pledge = db.session.get(Pledge, pledge_id)
    refunds = services.cancel_pledge(pledge, clock.now())
    ids = [r.id for r in refunds]
    db.session.commit()
    run_refunds(ids)


@dataclass(frozen=True)
class Confirmation:
    status: str  # held, too_late, declined, processing, abandoned
    message: str = ""


def confirm(payment_id: int) -> Confirmation:
    """Ask Stripe how a payment went (when the browser returns) and record it once."""
    payment = db.session.get(Payment, payment_id)
    intent_id = payment.stripe_payment_intent_id
    state = payment.status
    db.session.commit()
    if state is PaymentStatus.SUCCEEDED:
        return Confirmation("held")
    if state is PaymentStatus.FAILED or intent_id is None:
        return Confirmation("abandoned")
    intent = gateway().retrieve_payment_intent(intent_id)
    return record_intent(payment_id, intent.status, intent.charge_id, intent.error_message)


def record_intent(
    payment_id: int, status: str, charge_id: str | None, error_message: str = ""
) -> Confirmation:
    """Record what Stripe says of a payment; safe to call any number of times."""
    if status == "succeeded":
        outcome = services.payment_succeeded(payment_id, charge_id, clock.now())
        db.session.commit()
        if outcome.refund_ids:
            run_refunds(list(outcome.refund_ids))
        if not outcome.accepted:
            return Confirmation(
                "too_late",
                "The project closed before your payment completed, so we are refunding it in full.",
            )
        return Confirmation("held")
    if status == "canceled":
        services.payment_abandoned(payment_id, "The payment was cancelled.")
        db.session.commit()
        return Confirmation("abandoned")
    if status == "requires_payment_method" and error_message:
        services.payment_declined(payment_id, error_message)
        db.session.commit()
        return Confirmation("declined", error_message)
    db.session.commit()
    return Confirmation("processing")


def abandon(payment_id: int, reason: str) -> None:
    """Stop a payment that has not succeeded: cancel its intent first, so it never can."""
    payment = db.session.get(Payment, payment_id)
    intent_id = payment.stripe_payment_intent_id
    db.session.commit()
    if intent_id:
        try:
            intent = gateway().cancel_payment_intent(intent_id)
        except CardError:
            intent = gateway().retrieve_payment_intent(intent_id)  # it may have succeeded
        if intent.status == "succeeded":
            record_intent(payment_id, "succeeded", intent.charge_id)
            return
    services.payment_abandoned(payment_id, reason)
    db.session.commit()


def sweep_expired_payments() -> int:
    """Close payments whose reservation ran out, releasing their reward places."""
    expired = services.expired_payments(clock.now())
    db.session.commit()
    for payment_id, _intent in expired:
        try:
            abandon(payment_id, "The payment was not completed in time.")
        except GatewayError as error:
            db.session.rollback()
            log.warning("payment %s: expiry postponed: %s", payment_id, error)
    return len(expired)


def run_refunds(refund_ids: list[int]) -> None:
    for refund_id in refund_ids:
        execute_refund(refund_id)


def execute_refund(refund_id: int) -> None:
    """Make one refund at Stripe with its stored key, and record the answer."""
    refund = db.session.get(Refund, refund_id)
    params = dict(
        payment_intent=refund.payment.stripe_payment_intent_id,
        amount=refund.amount,
        metadata={"refund_id": str(refund.id), "pledge_id": str(refund.pledge_id)},
        key=refund.idempotency_key,
    )
    db.session.commit()
    try:
        result = gateway().create_refund(**params)
    except CardError as error:
        services.refund_refused(refund_id, error.message)
    except GatewayError as error:
        log.warning("refund %s: will retry: %s", refund_id, error)
        services.refund_attempt_failed(refund_id, error.message)
    else:
        if result.status == "failed":
            services.refund_refused(refund_id, result.failure_reason or "refused")
        else:
            services.refund_succeeded(refund_id, result.id)
    db.session.commit()


def retry_refused_refund(pledge_id: int) -> None:
    refunds = services.retry_refund(db.session.get(Pledge, pledge_id))
    ids = [r.id for r in refunds]
    db.session.commit()
    run_refunds(ids)


def resume_refunds() -> int:
    """Finish refunds left pending by a crash or a passing Stripe failure."""
    ids = services.pending_refunds()
    db.session.commit()
    run_refunds(ids)
    return len(ids)


# ---- webhooks ---------------------------------------------------------------------------


def handle_event(event_id: str, event_type: str, obj: dict) -> str:
    """Apply a verified webhook event once; later or repeated deliveries change nothing."""
    if db.session.get(StripeEvent, event_id) is not None:
        db.session.commit()
        return "duplicate"
    db.session.add(StripeEvent(id=event_id, type=event_type))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate"
    handler = HANDLERS.get(event_type)
    if handler is None:
        db.session.commit()
        return "ignored"
    result = handler(obj)
    return result or "ok"


def _payment_for_intent(intent_id: str | None) -> Payment | None:
    if not intent_id:
        return None
    return db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))


def _on_intent_succeeded(obj: dict) -> str | None:
    payment = _payment_for_intent(obj.get("id"))
    if payment is None:
        db.session.commit()
        return "unknown payment"
    charge = obj.get("latest_charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    record_intent(payment.id, "succeeded", charge_id)
    return None


def _on_intent_failed(obj: dict) -> str | None:
    payment = _payment_for_intent(obj.get("id"))
    if payment is not None:
        error = obj.get("last_payment_error") or {}
        services.payment_declined(payment.id, error.get("message") or "The card was declined.")
    db.session.commit()
    return None


def _on_charge_refunded(obj: dict) -> str | None:
    payment = _payment_for_intent(obj.get("payment_intent"))
    if payment is None:
        db.session.commit()
        return "unknown payment"
    for refund in (obj.get("refunds") or {}).get("data", []):
        ours = (refund.get("metadata") or {}).get("refund_id")
        if ours and ours.isdigit() and db.session.get(Refund, int(ours)) is not None:
            if refund.get("status") in ("succeeded", "pending"):
                services.refund_succeeded(int(ours), refund["id"])
        elif (
            db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == refund["id"]))
            is None
        ):
            services.external_refund(payment, refund["id"], refund["amount"])
    db.session.commit()
    return None


def _on_dispute(obj: dict) -> str | None:
    payment = _payment_for_intent(obj.get("payment_intent"))
    if payment is None and obj.get("charge"):
        payment = db.session.scalar(
            select(Payment).where(Payment.stripe_charge_id == obj["charge"])
        )
    if payment is not None:
        services.flag_dispute(payment)
    db.session.commit()
    return None


from app.payouts.services import on_account_updated  # noqa: E402  (payouts imports pledges)

HANDLERS = {
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute,
    "account.updated": on_account_updated,
}
