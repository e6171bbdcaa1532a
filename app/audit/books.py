"""The books against the pledges: every way the ledger, the pledges, the payouts and the
project totals disagree (``flask ledger check``, the tests, and settlement before it decides)."""

from __future__ import annotations

from sqlalchemy import String, cast, func, literal, select

from app.extensions import db
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.ledger.services import balance, creator
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.projects.domain import ProjectStatus
from app.projects.models import Project


def check(project_id: int | None = None) -> list[str]:
    """Every way the ledger, the pledges and the project totals disagree; empty when sound."""
    problems: list[str] = []

    unbalanced = (
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount) != 0)
    )
    if project_id is not None:
        unbalanced = unbalanced.join(
            LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id
        ).where(LedgerTransaction.project_id == project_id)
    for txn_id, total in db.session.execute(unbalanced):
        problems.append(f"ledger transaction {txn_id} sums to {total}, not 0")

    paid = (
        select(Payment.pledge_id, func.sum(Payment.amount).label("amount"))
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .group_by(Payment.pledge_id)
        .subquery()
    )
    back = (
        select(Refund.pledge_id, func.sum(Refund.amount).label("amount"))
        .where(Refund.status == RefundStatus.SUCCEEDED)
        .group_by(Refund.pledge_id)
        .subquery()
    )
    pending_refunds = (
        select(Refund.pledge_id, func.count().label("n"))
        .where(Refund.status.in_([RefundStatus.PENDING, RefundStatus.PROCESSING]))
        .group_by(Refund.pledge_id)
        .subquery()
    )
    refused = (
        select(Refund.pledge_id, func.sum(Refund.amount).label("amount"))
        .where(Refund.status == RefundStatus.FAILED)
        .group_by(Refund.pledge_id)
        .subquery()
    )
    net = func.coalesce(paid.c.amount, 0) - func.coalesce(back.c.amount, 0)
    pledges = (
        select(
            Pledge.id,
            Pledge.project_id,
            Pledge.status,
            Pledge.amount,
            Pledge.shipping_fee,
            net.label("net"),
            func.coalesce(pending_refunds.c.n, 0).label("pending_refunds"),
            func.coalesce(refused.c.amount, 0).label("refused"),
        )
        .outerjoin(paid, paid.c.pledge_id == Pledge.id)
        .outerjoin(back, back.c.pledge_id == Pledge.id)
        .outerjoin(pending_refunds, pending_refunds.c.pledge_id == Pledge.id)
        .outerjoin(refused, refused.c.pledge_id == Pledge.id)
    )
    if project_id is not None:
        pledges = pledges.where(Pledge.project_id == project_id)

    escrow_by_project: dict[int, int] = {}
    collected_by_project: dict[int, int] = {}
    for row in db.session.execute(pledges):
        # A collected pledge's money has left escrow in the payout; the rest is still there.
        book = collected_by_project if row.status is PledgeStatus.COLLECTED else escrow_by_project
        book[row.project_id] = book.get(row.project_id, 0) + row.net
        if row.net < 0:
            problems.append(f"pledge {row.id} has {row.net} in escrow: refunded more than paid")
        # A held pledge has its total in escrow; more only while Stripe refused to refund a
        # reduction (the difference waits for an admin).
        total = row.amount + row.shipping_fee
        if (
            row.status is PledgeStatus.HELD
            and not row.pending_refunds
            and not total <= row.net <= total + row.refused
        ):
            problems.append(
                f"pledge {row.id} is held for {row.amount + row.shipping_fee} "
                f"but {row.net} is in escrow"
            )
        if row.status in (PledgeStatus.REFUNDED, PledgeStatus.FAILED) and row.net != 0:
            problems.append(f"pledge {row.id} is {row.status.value} but {row.net} is in escrow")

    held = (
        select(
            Pledge.project_id,
            func.coalesce(func.sum(Pledge.amount + Pledge.shipping_fee), 0).label("amount"),
            func.count().label("n"),
        )
        .where(Pledge.status.in_([PledgeStatus.HELD, PledgeStatus.COLLECTED]))
        .group_by(Pledge.project_id)
        .subquery()
    )
    escrow_entries = (
        select(LedgerEntry.account, func.sum(LedgerEntry.amount).label("amount"))
        .where(LedgerEntry.account.like("escrow:%"))
        .group_by(LedgerEntry.account)
        .subquery()
    )
    escrow_account = literal("escrow:") + cast(Project.id, String)
    projects = (
        select(
            Project.id,
            Project.status,
            Project.pledged_amount,
            Project.backer_count,
            func.coalesce(held.c.amount, 0).label("held_amount"),
            func.coalesce(held.c.n, 0).label("held_count"),
            func.coalesce(escrow_entries.c.amount, 0).label("escrow"),
        )
        .outerjoin(held, held.c.project_id == Project.id)
        .outerjoin(escrow_entries, escrow_entries.c.account == escrow_account)
    )
    if project_id is not None:
        projects = projects.where(Project.id == project_id)
    rows = db.session.execute(projects)
    for row in rows:
        expected = escrow_by_project.get(row.id, 0)
        if row.escrow != expected:
            problems.append(
                f"project {row.id}: escrow balance {row.escrow} but its pledges "
                f"have {expected} in escrow"
            )
        # Totals count held (and, once paid out, collected) pledges; a project that ends in
        # refunds keeps showing the tally it closed with.
        if row.status in COUNTED_STATUSES and (row.pledged_amount, row.backer_count) != (
            row.held_amount,
            row.held_count,
        ):
            problems.append(
                f"project {row.id}: shows {row.pledged_amount} from "
                f"{row.backer_count} backers but held pledges total "
                f"{row.held_amount} from {row.held_count}"
            )
    problems.extend(_check_payouts(collected_by_project, project_id))
    return problems


COUNTED_STATUSES = (
    ProjectStatus.LIVE,
    ProjectStatus.SETTLING,
    ProjectStatus.FUNDED,
    ProjectStatus.PAID_OUT,
)


def _check_payouts(collected_by_project: dict[int, int], project_id: int | None) -> list[str]:
    """A paid-out project: the creator and the fee got exactly what its pledges brought."""
    from app.payouts.models import Payout, PayoutStatus

    problems = []
    stmt = select(Payout).where(Payout.status == PayoutStatus.SUCCEEDED)
    if project_id is not None:
        stmt = stmt.where(Payout.project_id == project_id)
    for payout in db.session.scalars(stmt):
        pid = payout.project_id
        collected = collected_by_project.get(pid, 0)
        if payout.gross != collected:
            problems.append(
                f"project {pid}: paid out on {payout.gross} but its collected "
                f"pledges hold {collected}"
            )
        if balance(creator(pid)) != payout.net:
            problems.append(
                f"project {pid}: creator got {balance(creator(pid))}, payout says {payout.net}"
            )
    return problems
