"""Settlement bookkeeping: claiming due projects, deciding the outcome, planning the money.

Each function is a short database step that flushes; ``app.settlement.runner`` puts them
together with the Stripe calls, committing between steps.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, insert, or_, select, update

from app import clock, events
from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.services import Transfer
from app.moves import move
from app.payouts.models import ConnectedAccount, Payout, PayoutStatus
from app.payouts.services import payout_of  # noqa: F401  (settlement's callers use it)
from app.pledges import services as pledge_services
from app.pledges.domain import FINAL_STATUSES, PledgeStatus
from app.pledges.models import (
    REFUND_IN_FLIGHT,
    Payment,
    PaymentStatus,
    Pledge,
    Refund,
    RefundStatus,
)
from app.projects import services as project_services
from app.projects.domain import Action, ProjectStatus
from app.projects.models import Project
from app.settlement.domain import is_funded, split

S = ProjectStatus
P = PledgeStatus
REFUNDING_STATUSES = (S.FAILED, S.CANCELLED, S.SUSPENDED)
# Outcomes whose work may be unfinished until settled_at is set: paid_out too, since a run
# can stop after the transfer is booked and before the project is marked settled.
UNSETTLED_STATUSES = (S.SETTLING, S.FUNDED, S.PAID_OUT, S.FAILED, S.CANCELLED, S.SUSPENDED)


def lease_length() -> timedelta:
    return timedelta(seconds=current_app.config["SETTLEMENT_LEASE_SECONDS"])


def _due(now: datetime):
    return or_(
        and_(Project.status == S.LIVE, Project.deadline <= now),
        and_(Project.status.in_(UNSETTLED_STATUSES), Project.settled_at.is_(None)),
    )


def due_projects(now: datetime, project_id: int | None = None) -> list[int]:
    """Projects with settlement work to do and nobody working on them, oldest deadline first."""
    stmt = (
        select(Project.id)
        .where(
            _due(now),
            or_(Project.settlement_lease_until.is_(None), Project.settlement_lease_until < now),
        )
        .order_by(Project.deadline, Project.id)
    )
    if project_id is not None:
        stmt = stmt.where(Project.id == project_id)
    return list(db.session.scalars(stmt))


def claim(project_id: int, now: datetime) -> bool:
    """Take the project's settlement lease; False if another process holds it.

    On PostgreSQL the row is first locked with FOR UPDATE SKIP LOCKED, so two schedulers
    never wait on each other; the conditional UPDATE makes the claim safe everywhere.
    """
    locked = db.session.scalar(
        select(Project.id)
        .where(Project.id == project_id, _due(now))
        .with_for_update(skip_locked=True)
    )
    if locked is None:
        return False
    lease_free = or_(Project.settlement_lease_until.is_(None), Project.settlement_lease_until < now)
    won = move(
        Project, project_id, None, where=[lease_free], settlement_lease_until=now + lease_length()
    )
    return won


def renew(project_id: int, now: datetime) -> None:
    db.session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(settlement_lease_until=now + lease_length())
    )


def release(project_id: int) -> None:
    db.session.execute(
        update(Project).where(Project.id == project_id).values(settlement_lease_until=None)
    )


def held_total(project_id: int) -> tuple[int, int]:
    """(money, pledges) of the project's held pledges: what the outcome is decided from."""
    row = db.session.execute(
        select(func.coalesce(func.sum(Pledge.total), 0), func.count()).where(
            Pledge.project_id == project_id, Pledge.status == P.HELD
        )
    ).one()
    return int(row[0]), int(row[1])


def books_disagree(project: Project) -> list[str]:
    """Every way the project's books disagree (ledger, pledges, running totals); settlement
    decides nothing while there is any."""
    return books.check(project.id)


def close_if_due(project: Project, now: datetime) -> None:
    """Live past its deadline: stop taking pledges, then decide the outcome from the held
    pledges, which can no longer change (pledges and this claim serialise on the project row),
    checked against the ledger and the running totals. Books that disagree stop here: the
    project stays settling with the difference named in ``settlement_hold``, for an admin,
    and nobody is paid or refunded."""
    if project.status is S.LIVE and project.deadline <= now:
        project_services.change_status(
            project, Action.CLAIM_FOR_SETTLEMENT, None, "The deadline passed.", ended_at=now
        )
    if project.status is S.SETTLING:
        problems = books_disagree(project)
        project.settlement_hold = "; ".join(problems)[:4000]
        db.session.flush()
        if problems:
            return
        total, _count = held_total(project.id)
        if is_funded(total, project.goal_amount):
            project_services.change_status(
                project, Action.MARK_FUNDED, None, "The goal was reached."
            )
            parts = split(total, current_app.config["PLATFORM_FEE_PERCENT"])
            payout = Payout(
                project_id=project.id,
                currency=project.currency,
                gross=parts.total,
                fee=parts.fee,
                net=parts.payout,
                idempotency_key="",
            )
            db.session.add(payout)
            db.session.flush()
            payout.idempotency_key = pledge_services.idempotency_key("payout", payout.id)
            db.session.flush()
            events.publish(events.ProjectFunded(project.id))
        else:
            project_services.change_status(
                project, Action.MARK_FAILED, None, "The goal was not reached."
            )
            events.publish(events.ProjectFailed(project.id))


def plan_refunds(project: Project, batch: int = 1000) -> int:
    """Refund rows for every held pledge of a project that ends without funding.

    Set-based, so a project with hundreds of thousands of pledges is planned in a few
    statements; each row gets its own idempotency key.
    """
    if project.status not in REFUNDING_STATUSES:
        return 0
    if project.status is not S.FAILED:  # a failed project's creator heard in close_if_due
        events.publish(events.ProjectStopped(project.id))
    planned = 0
    prefix = current_app.config["IDEMPOTENCY_PREFIX"]
    while True:
        rows = db.session.execute(
            select(Pledge.id, Pledge.amount, Pledge.shipping_fee, Pledge.currency)
            .where(Pledge.project_id == project.id, Pledge.status == P.HELD)
            .order_by(Pledge.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        ids = [r.id for r in rows]
        payments = _refundable_payments(ids)
        refunds = []
        for pledge_id, items in payments.items():
            for payment_id, amount in items:
                refunds.append(
                    {
                        "pledge_id": pledge_id,
                        "payment_id": payment_id,
                        "amount": amount,
                        "currency": project.currency,
                        "reason": f"project_{project.status.value}",
                        "status": RefundStatus.PENDING,
                        "idempotency_key": f"{prefix}-refund-p{payment_id}-settle",
                        "created_at": clock.now(),
                    }
                )
        if refunds:
            db.session.execute(insert(Refund), refunds)
        db.session.execute(
            update(Pledge)
            .where(Pledge.id.in_(ids), Pledge.status == P.HELD)
            .values(
                status=P.REFUNDING,
                end_reason=_refund_reason(project.status),
                version=Pledge.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        events.publish(events.RefundsPlanned(project.id, ids))
        planned += len(refunds)
    db.session.flush()
    return planned


def _refund_reason(status: ProjectStatus) -> str:
    return {
        S.FAILED: "The project did not reach its goal.",
        S.CANCELLED: "The creator cancelled the project.",
        S.SUSPENDED: "The project was suspended.",
    }[status]


def _refundable_payments(pledge_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """Per pledge, (payment id, amount not yet refunded) of its succeeded payments."""
    refunded = (
        select(Refund.payment_id, func.sum(Refund.amount).label("amount"))
        .where(Refund.status != RefundStatus.FAILED)
        .group_by(Refund.payment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Payment.pledge_id,
            Payment.id,
            (Payment.amount - func.coalesce(refunded.c.amount, 0)).label("left"),
        )
        .outerjoin(refunded, refunded.c.payment_id == Payment.id)
        .where(Payment.pledge_id.in_(pledge_ids), Payment.status == PaymentStatus.SUCCEEDED)
    )
    result: dict[int, list[tuple[int, int]]] = {}
    for pledge_id, payment_id, left in rows:
        if left > 0:
            result.setdefault(pledge_id, []).append((payment_id, left))
    return result


def pending_refund_ids(project_id: int, limit: int | None = None) -> list[int]:
    """Refunds of the project still on their way (to be made, or pending at Stripe)."""
    stmt = (
        select(Refund.id)
        .join(Pledge, Pledge.id == Refund.pledge_id)
        .where(Pledge.project_id == project_id, Refund.status.in_(REFUND_IN_FLIGHT))
        .order_by(Refund.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def pending_refund_calls(project_id: int, limit: int) -> list[tuple]:
    """(refund id, PaymentIntent id, amount, idempotency key, pledge id) still to be made."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(
                Refund.id,
                Payment.stripe_payment_intent_id,
                Refund.amount,
                Refund.idempotency_key,
                Refund.pledge_id,
            )
            .join(Payment, Payment.id == Refund.payment_id)
            .join(Pledge, Pledge.id == Refund.pledge_id)
            .where(Pledge.project_id == project_id, Refund.status == RefundStatus.PENDING)
            .order_by(Refund.id)
            .limit(limit)
        )
    ]


def count_pending_refunds(project_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Refund)
        .join(Pledge, Pledge.id == Refund.pledge_id)
        .where(Pledge.project_id == project_id, Refund.status == RefundStatus.PENDING)
    )


def open_payments(project_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Payment)
        .join(Pledge, Pledge.id == Payment.pledge_id)
        .where(Pledge.project_id == project_id, Payment.status == PaymentStatus.PENDING)
    )


def held_money_moving(project_id: int) -> bool:
    """A held pledge of the project has a payment open or a refund pending (a change), or
    more in escrow than its total (a reduction's refund that Stripe refused, for an admin)."""
    open_payment = select(Payment.id).where(
        Payment.pledge_id == Pledge.id, Payment.status == PaymentStatus.PENDING
    )
    pending_refund = select(Refund.id).where(
        Refund.pledge_id == Pledge.id, Refund.status.in_(REFUND_IN_FLIGHT)
    )
    paid = select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.pledge_id == Pledge.id, Payment.status == PaymentStatus.SUCCEEDED
    )
    back = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.pledge_id == Pledge.id, Refund.status != RefundStatus.FAILED
    )
    return (
        db.session.scalar(
            select(Pledge.id)
            .where(
                Pledge.project_id == project_id,
                Pledge.status == P.HELD,
                or_(
                    open_payment.exists(),
                    pending_refund.exists(),
                    paid.scalar_subquery() - back.scalar_subquery() > Pledge.total,
                ),
            )
            .limit(1)
        )
        is not None
    )


def payout_destination(project: Project) -> str | None:
    """The creator's connected account, if onboarding is finished."""
    account = db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.user_id == project.owner_id)
    )
    return account.stripe_account_id if account is not None and account.ready else None


TRANSFER_SENT = "The transfer was sent to Stripe; its answer is awaited."


def transfer_sent(payout_id: int) -> None:
    """Written (and committed) before the transfer call: from then on a transfer may exist at
    Stripe under the payout's current key, whatever happens to the answer or the process."""
    db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status == PayoutStatus.PENDING)
        .values(last_error=TRANSFER_SENT)
    )


def transfer_in_doubt(payout: Payout) -> bool:
    """A transfer was sent with the current key and its answer never recorded: the next try
    must replay that key, not look at the balance the transfer itself may have used."""
    return payout.last_error.startswith(TRANSFER_SENT)


def payout_postponed(
    payout_id: int, reason: str, refused: bool = False, in_doubt: bool = False
) -> None:
    """The payout waits for a later sweep; a refusal moves it to a fresh idempotency key;
    a transfer whose answer was lost stays in doubt (same key, replayed next time)."""
    values: dict = {"last_error": (f"{TRANSFER_SENT} ({reason})" if in_doubt else reason)[:500]}
    if refused:
        values["attempts"] = Payout.attempts + 1
    db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status == PayoutStatus.PENDING)
        .values(**values)
    )


def fix_processing_fee(payout_id: int, share: int) -> int:
    """Set the processing fees the payout deducts (never more than what is left after the
    platform's fee: any excess stays the platform's cost) and return the net to transfer.
    Only while no transfer may exist: a transfer in doubt keeps its amount."""
    payout = db.session.get(Payout, payout_id)
    db.session.refresh(payout)
    if payout.status is not PayoutStatus.PENDING or transfer_in_doubt(payout):
        return payout.net
    deducted = min(share, payout.gross - payout.fee)
    db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status == PayoutStatus.PENDING)
        .values(processing_fee=deducted, net=payout.gross - payout.fee - deducted)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(payout)
    return payout.net


def payout_succeeded(payout_id: int, transfer_id: str, now: datetime) -> bool:
    """Book the payout and the fee, collect the pledges, and mark the project paid out."""
    won = move(
        Payout,
        payout_id,
        {PayoutStatus.PENDING},
        PayoutStatus.SUCCEEDED,
        stripe_transfer_id=transfer_id,
        completed_at=now,
        last_error="",
    )
    if not won:
        return False
    payout = db.session.get(Payout, payout_id)
    db.session.refresh(payout)
    escrow = ledger.escrow(payout.project_id)
    if payout.net:
        ledger.book(
            Transfer("payout", f"payout:{payout.id}", payout.project_id, None,
                     escrow, ledger.creator(payout.project_id), payout.net, payout.currency)
        )  # fmt: skip
    if payout.fee:
        ledger.book(
            Transfer("fee", f"fee:{payout.id}", payout.project_id, None,
                     escrow, ledger.PLATFORM_FEES, payout.fee, payout.currency)
        )  # fmt: skip
    if payout.processing_fee:  # the creator bears the fees the platform paid Stripe
        ledger.book(
            Transfer("fee_recovery", f"fee-recovery:{payout.id}", payout.project_id, None,
                     escrow, ledger.PLATFORM_PROCESSING, payout.processing_fee, payout.currency)
        )  # fmt: skip
    db.session.execute(
        update(Pledge)
        .where(Pledge.project_id == payout.project_id, Pledge.status == P.HELD)
        .values(status=P.COLLECTED, ended_at=now, version=Pledge.version + 1)
        .execution_options(synchronize_session=False)
    )
    project = db.session.get(Project, payout.project_id)
    db.session.refresh(project)
    project_services.change_status(project, Action.MARK_PAID_OUT, None, f"Transfer {transfer_id}.")
    events.publish(events.ProjectPaidOut(project.id, payout.net))
    return True


def mark_settled_if_done(project: Project, now: datetime) -> bool:
    """Settled: no open payment, no pending refund, a funded project paid out, and every
    pledge in a final state (a refund Stripe refused keeps the project open until an admin
    has dealt with it: its money is still in escrow)."""
    db.session.refresh(project)
    if project.status not in (S.PAID_OUT, *REFUNDING_STATUSES):
        return False
    if open_payments(project.id) or pending_refund_ids(project.id, limit=1):
        return False
    if db.session.scalar(
        select(func.count())
        .select_from(Pledge)
        .where(Pledge.project_id == project.id, Pledge.status.not_in(FINAL_STATUSES))
    ):
        return False
    db.session.execute(
        update(Project)
        .where(Project.id == project.id)
        .values(settled_at=now, settlement_lease_until=None)
    )
    return True
