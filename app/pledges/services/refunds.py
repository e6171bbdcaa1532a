"""Refund rows: planned, made, refused, failed later, retried.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from app import clock, events
from app.extensions import db
from app.i18n import N_
from app.ledger import services as ledger
from app.ledger.services import Transfer
from app.moves import move
from app.payments.keys import idempotency_key
from app.pledges.domain import (
    PledgeStatus,
)
from app.pledges.models import (
    REFUND_IN_FLIGHT,
    Payment,
    PaymentStatus,
    Pledge,
    Refund,
    RefundStatus,
)
from app.pledges.services.taking import set_status, take

P = PledgeStatus

# What the backer reads on their pledge when Stripe will not refund it (Stripe's own words,
# in English, go to the refund row and the moderators' note).
REFUND_REFUSED = N_(
    "Stripe refused the refund. Your money is still held safely; our team will arrange the "
    "refund with you."
)


def _refund_row(pledge: Pledge, payment: Payment, amount: int, reason: str) -> Refund:
    refund = Refund(
        pledge_id=pledge.id,
        payment_id=payment.id,
        amount=amount,
        currency=pledge.currency,
        reason=reason,
        idempotency_key="",
    )
    db.session.add(refund)
    db.session.flush()
    refund.idempotency_key = idempotency_key("refund", refund.id)
    db.session.flush()
    return refund


def plan_refunds(pledge: Pledge, amount: int, reason: str) -> list[Refund]:
    """Refund rows for ``amount``, taken from the pledge's payments, newest first."""
    refunds = []
    for payment in sorted(pledge.payments, key=lambda p: p.id, reverse=True):
        if amount <= 0:
            break
        if payment.status is not PaymentStatus.SUCCEEDED:
            continue
        already = sum(
            r.amount
            for r in pledge.refunds
            if r.payment_id == payment.id and r.status is not RefundStatus.FAILED
        )
        part = min(amount, payment.amount - already)
        if part > 0:
            refunds.append(_refund_row(pledge, payment, part, reason))
            amount -= part
    if amount > 0:
        raise ValueError(f"pledge {pledge.id} has not enough paid to refund {amount} more")
    return refunds


def refund_succeeded(refund_id: int, stripe_refund_id: str) -> bool:
    """Book a refund once; a fully refunded pledge under refund becomes refunded."""
    return record_refunds_succeeded([(refund_id, stripe_refund_id)]) == 1


def record_refunds_succeeded(results: list[tuple[int, str]]) -> int:
    """Book refunds Stripe made, given as (refund id, Stripe refund id), each exactly once.

    Set-based, so settlement records hundreds of refunds in a handful of statements: a
    conditional UPDATE picks the refunds still pending (a repeat report wins nothing), the
    ledger gets one transaction each, and pledges with nothing left in escrow and no refund
    pending become refunded.
    """
    if not results:
        return 0
    now = clock.now()
    stripe_ids = dict(results)
    _lock_pledges_of(list(stripe_ids))
    won = db.session.scalars(
        update(Refund)
        .where(Refund.id.in_(stripe_ids), Refund.status.in_(REFUND_IN_FLIGHT))
        .values(status=RefundStatus.SUCCEEDED, completed_at=now)
        .returning(Refund.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not won:
        return 0
    refunds = Refund.__table__
    db.session.execute(
        refunds.update()
        .where(refunds.c.id == bindparam("refund_id"))
        .values(stripe_refund_id=bindparam("stripe_id")),
        [{"refund_id": rid, "stripe_id": stripe_ids[rid]} for rid in won],
    )
    rows = db.session.execute(
        select(
            Refund.id,
            Refund.amount,
            Refund.currency,
            Pledge.id.label("pledge_id"),
            Pledge.project_id,
            Pledge.backer_id,
        )
        .join(Pledge, Pledge.id == Refund.pledge_id)
        .where(Refund.id.in_(won))
    ).all()
    ledger.book_all(
        [
            Transfer("refund", f"refund:{r.id}", r.project_id, r.pledge_id,
                     ledger.escrow(r.project_id), ledger.backer(r.backer_id), r.amount, r.currency)
            for r in rows
        ]
    )  # fmt: skip
    _mark_refunded(_fully_refunded({r.pledge_id for r in rows}), now)
    db.session.expire_all()
    return len(won)


def _lock_pledges_of(refund_ids: list[int]) -> None:
    """Take the refunds' pledges (PostgreSQL: FOR NO KEY UPDATE, in id order) before deciding
    from them, as every change of a pledge does: a refund's outcome recorded while the backer
    cancels (another request, holding the pledge) waits for it, then reads the pledge as the
    cancellation left it; and the cancellation, once it has the pledge, sees the outcome."""
    db.session.execute(
        select(Pledge.id)
        .where(Pledge.id.in_(select(Refund.pledge_id).where(Refund.id.in_(refund_ids))))
        .order_by(Pledge.id)
        .with_for_update(key_share=True)
    )


def _mark_refunded(finished: list[int], now: datetime) -> None:
    if finished:
        db.session.execute(
            update(Pledge)
            .where(Pledge.id.in_(finished), Pledge.status == P.REFUNDING)
            .values(status=P.REFUNDED, ended_at=now, version=Pledge.version + 1)
            .execution_options(synchronize_session=False)
        )
        events.publish(events.PledgesRefunded(finished))  # one message per pledge, not per refund


def _fully_refunded(pledge_ids: set[int]) -> list[int]:
    """Of these pledges, those with nothing left in escrow, no refund pending and no payment
    still open (a change the backer may yet pay: it would bring money back into escrow)."""
    paid = dict(
        db.session.execute(
            select(Payment.pledge_id, func.sum(Payment.amount))
            .where(Payment.pledge_id.in_(pledge_ids), Payment.status == PaymentStatus.SUCCEEDED)
            .group_by(Payment.pledge_id)
        ).all()
    )
    back: dict[int, int] = {}
    pending: set[int] = set()
    for pledge_id, status, amount in db.session.execute(
        select(Refund.pledge_id, Refund.status, func.sum(Refund.amount))
        .where(Refund.pledge_id.in_(pledge_ids))
        .group_by(Refund.pledge_id, Refund.status)
    ):
        if status is RefundStatus.SUCCEEDED:
            back[pledge_id] = amount
        elif status in REFUND_IN_FLIGHT:
            pending.add(pledge_id)
    pending.update(
        db.session.scalars(
            select(Payment.pledge_id).where(
                Payment.pledge_id.in_(pledge_ids), Payment.status == PaymentStatus.PENDING
            )
        )
    )
    return [p for p in pledge_ids if p not in pending and paid.get(p, 0) == back.get(p, 0)]


def refund_refused(refund_id: int, message: str) -> None:
    """Stripe will not make this refund: it needs a human; the money stays accounted for."""
    _lock_pledges_of([refund_id])  # decided from the pledge as it is once taken
    won = move(
        Refund,
        refund_id,
        REFUND_IN_FLIGHT,
        RefundStatus.FAILED,
        failure_message=message[:500],
        completed_at=clock.now(),
    )
    if won:
        refund = db.session.get(Refund, refund_id)
        db.session.refresh(refund)
        pledge = refund.pledge
        db.session.refresh(pledge)
        if pledge.status is P.REFUNDING:
            note = f"Refund {refund_id} refused by Stripe: {message}"
            pledge.attention = (f"{pledge.attention}\n{note}" if pledge.attention else note)[-2000:]
            db.session.flush()
            set_status(pledge, P.REFUND_FAILED, REFUND_REFUSED)


def refund_failed(refund_id: int, message: str) -> None:
    """Stripe says a refund failed. Not yet booked: refused, as at once. Already booked as
    made (Stripe answered it pending, or it failed days later at the card network): the money
    is back in escrow, so the ledger books it back, the pledge waits for an admin (refund
    failed) and the backer is told."""
    pledge_id = db.session.scalar(select(Refund.pledge_id).where(Refund.id == refund_id))
    if pledge_id is None:
        return
    pledge = take(pledge_id)
    refund = db.session.get(Refund, refund_id)
    if refund.status in REFUND_IN_FLIGHT:  # not booked yet: simply refused
        refund_refused(refund_id, message)
        return
    if refund.status is not RefundStatus.SUCCEEDED:
        return  # already failed: a repeated event
    db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.SUCCEEDED)
        .values(status=RefundStatus.FAILED, failure_message=message[:500])
        .execution_options(synchronize_session=False)
    )
    ledger.book(
        Transfer("refund_failed", f"refund-failed:{refund_id}", pledge.project_id, pledge.id,
                 ledger.backer(pledge.backer_id), ledger.escrow(pledge.project_id),
                 refund.amount, refund.currency)
    )  # fmt: skip
    db.session.expire(refund)
    note = f"Refund {refund_id} failed after it was made ({message}); the money is in escrow."
    pledge.attention = (f"{pledge.attention}\n{note}" if pledge.attention else note)[-2000:]
    db.session.flush()
    if pledge.status in (P.REFUNDED, P.REFUNDING):
        if pledge.status is P.REFUNDED:
            set_status(pledge, P.REFUNDING)
        set_status(pledge, P.REFUND_FAILED, REFUND_REFUSED)
    events.publish(events.RefundFailed(pledge.id, refund_id, refund.amount))


def record_refunds_processing(results: list[tuple[int, str]]) -> int:
    """Refunds Stripe accepted as ``pending``, given as (refund id, Stripe refund id): their
    Stripe id is kept and they are not booked; Stripe's ``refund.updated`` (or the sweep's
    re-read) books them once they succeed."""
    if not results:
        return 0
    stripe_ids = dict(results)
    won = db.session.scalars(
        update(Refund)
        .where(Refund.id.in_(stripe_ids), Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.PROCESSING)
        .returning(Refund.id)
        .execution_options(synchronize_session=False)
    ).all()
    refunds = Refund.__table__
    if won:
        db.session.execute(
            refunds.update()
            .where(refunds.c.id == bindparam("refund_id"))
            .values(stripe_refund_id=bindparam("stripe_id")),
            [{"refund_id": rid, "stripe_id": stripe_ids[rid]} for rid in won],
        )
    db.session.expire_all()
    return len(won)


def processing_refunds(older_than: datetime, limit: int = 500) -> list[tuple[int, str]]:
    """(refund id, Stripe refund id) of refunds pending at Stripe since before ``older_than``:
    the sweep asks Stripe about them, in case their webhook was lost."""
    return [
        (row.id, row.stripe_refund_id)
        for row in db.session.execute(
            select(Refund.id, Refund.stripe_refund_id)
            .where(
                Refund.status == RefundStatus.PROCESSING,
                Refund.stripe_refund_id.is_not(None),
                Refund.created_at < older_than,
            )
            .order_by(Refund.id)
            .limit(limit)
        )
    ]


def refund_attempt_failed(refund_id: int, message: str) -> None:
    """A passing failure: the refund stays pending and a later sweep retries it."""
    db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
        .values(attempts=Refund.attempts + 1, failure_message=message[:500])
    )


def pending_refunds(limit: int = 500) -> list[int]:
    return list(
        db.session.scalars(
            select(Refund.id)
            .where(Refund.status == RefundStatus.PENDING)
            .order_by(Refund.id)
            .limit(limit)
        )
    )
