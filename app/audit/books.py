"""The books against the pledges: every way the ledger, the pledges, the payouts and the
project totals disagree (``flask ledger check``, the tests, and settlement before it decides).

Three reads (the ledger's transactions, one row per pledge with its money, one row per project
with its totals and escrow balance, and the payouts made) and a list of named rules, each a
plain function of a row that says what is wrong with it, or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Row, String, cast, func, literal, select

from app.extensions import db
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.ledger.services import PLATFORM_PROCESSING, STRIPE_FEES, balance, creator
from app.payouts.models import Payout, PayoutStatus
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.projects.domain import ProjectStatus
from app.projects.models import Project

# Project totals count held (and, once paid out, collected) pledges; a project that ends in
# refunds keeps showing the tally it closed with.
COUNTED_STATUSES = (
    ProjectStatus.LIVE,
    ProjectStatus.SETTLING,
    ProjectStatus.FUNDED,
    ProjectStatus.PAID_OUT,
)


def check(project_id: int | None = None) -> list[str]:
    """Every way the ledger, the pledges and the project totals disagree; empty when sound."""
    problems = [
        f"ledger transaction {txn_id} sums to {total}, not 0"
        for txn_id, total in _unbalanced_transactions(project_id)
    ]
    in_escrow: dict[int, int] = {}  # by project: what its pledges still hold there
    collected: dict[int, int] = {}  # by project: what its collected pledges brought
    for pledge in _pledges(project_id):
        # A collected pledge's money has left escrow in the payout; the rest is still there.
        book = collected if pledge.status is PledgeStatus.COLLECTED else in_escrow
        book[pledge.project_id] = book.get(pledge.project_id, 0) + pledge.net
        problems.extend(_apply(PLEDGE_RULES, pledge))
    for project in _projects(project_id):
        problems.extend(_apply(PROJECT_RULES, project, in_escrow.get(project.id, 0)))
    for payout in _payouts(project_id):
        problems.extend(_apply(PAYOUT_RULES, payout, collected.get(payout.project_id, 0)))
    return problems


def _apply(rules: Iterable[Callable[..., str | None]], *facts: Any) -> list[str]:
    return [problem for rule in rules if (problem := rule(*facts))]


# --- The rules -----------------------------------------------------------------------------


def no_pledge_is_refunded_more_than_it_paid(pledge: Row) -> str | None:
    if pledge.net < 0:
        return f"pledge {pledge.id} has {pledge.net} in escrow: refunded more than paid"
    return None


def a_held_pledge_has_its_total_in_escrow(pledge: Row) -> str | None:
    """More only while Stripe refused to refund a reduction (the difference waits for an
    admin); not checked while a refund is on its way."""
    total = pledge.total
    if (
        pledge.status is PledgeStatus.HELD
        and not pledge.pending_refunds
        and not total <= pledge.net <= total + pledge.refused
    ):
        return f"pledge {pledge.id} is held for {total} but {pledge.net} is in escrow"
    return None


def an_ended_pledge_has_nothing_in_escrow(pledge: Row) -> str | None:
    if pledge.status in (PledgeStatus.REFUNDED, PledgeStatus.FAILED) and pledge.net != 0:
        return f"pledge {pledge.id} is {pledge.status.value} but {pledge.net} is in escrow"
    return None


def escrow_holds_what_the_pledges_have_there(project: Row, in_escrow: int) -> str | None:
    if project.escrow != in_escrow:
        return (
            f"project {project.id}: escrow balance {project.escrow} but its pledges "
            f"have {in_escrow} in escrow"
        )
    return None


def the_totals_count_the_held_pledges(project: Row, _in_escrow: int) -> str | None:
    shown = (project.pledged_amount, project.backer_count)
    if project.status in COUNTED_STATUSES and shown != (project.held_amount, project.held_count):
        return (
            f"project {project.id}: shows {project.pledged_amount} from "
            f"{project.backer_count} backers but held pledges total "
            f"{project.held_amount} from {project.held_count}"
        )
    return None


def a_payout_is_made_on_what_was_collected(payout: Payout, collected: int) -> str | None:
    if payout.gross != collected:
        return (
            f"project {payout.project_id}: paid out on {payout.gross} but its collected "
            f"pledges hold {collected}"
        )
    return None


def the_creator_got_the_payout(payout: Payout, _collected: int) -> str | None:
    got = balance(creator(payout.project_id))
    if got != payout.net:
        return f"project {payout.project_id}: creator got {got}, payout says {payout.net}"
    return None


def stripe_fees_are_booked_as_read(project: Row, _in_escrow: int) -> str | None:
    """Every processing fee read from Stripe is booked once, and nothing else is."""
    if project.fees_booked != project.fees_read:
        return (
            f"project {project.id}: Stripe's processing fees read total {project.fees_read} "
            f"but {project.fees_booked} is booked"
        )
    return None


def the_payout_deducts_only_fees_stripe_kept(payout: Payout, _collected: int) -> str | None:
    """The fees a payout deducts went back to the platform, and were paid to Stripe."""
    recovered = _project_balance(payout.project_id, PLATFORM_PROCESSING, "fee_recovery")
    paid = _project_balance(payout.project_id, STRIPE_FEES)
    if recovered != payout.processing_fee or payout.processing_fee > paid:
        return (
            f"project {payout.project_id}: the payout deducts {payout.processing_fee} of "
            f"processing fees, {recovered} went back to the platform, Stripe kept {paid}"
        )
    return None


PLEDGE_RULES = (
    no_pledge_is_refunded_more_than_it_paid,
    a_held_pledge_has_its_total_in_escrow,
    an_ended_pledge_has_nothing_in_escrow,
)
PROJECT_RULES = (
    escrow_holds_what_the_pledges_have_there,
    the_totals_count_the_held_pledges,
    stripe_fees_are_booked_as_read,
)
PAYOUT_RULES = (
    a_payout_is_made_on_what_was_collected,
    the_creator_got_the_payout,
    the_payout_deducts_only_fees_stripe_kept,
)


# --- The reads -----------------------------------------------------------------------------


def _unbalanced_transactions(project_id: int | None) -> list[Row]:
    """Ledger transactions whose entries do not sum to zero: (transaction id, sum)."""
    stmt = (
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount) != 0)
    )
    if project_id is not None:
        stmt = stmt.join(
            LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id
        ).where(LedgerTransaction.project_id == project_id)
    return list(db.session.execute(stmt))


def _refund_sums(*statuses: RefundStatus, label: str = "amount", count: bool = False):
    value = func.count() if count else func.sum(Refund.amount)
    return (
        select(Refund.pledge_id, value.label(label))
        .where(Refund.status.in_(statuses))
        .group_by(Refund.pledge_id)
        .subquery()
    )


def _pledges(project_id: int | None) -> list[Row]:
    """Each pledge with ``net`` (paid less refunded: what it has in escrow or brought to the
    payout), ``pending_refunds`` (refunds on their way) and ``refused`` (refunds Stripe
    refused)."""
    paid = (
        select(Payment.pledge_id, func.sum(Payment.amount).label("amount"))
        .where(Payment.status == PaymentStatus.SUCCEEDED)
        .group_by(Payment.pledge_id)
        .subquery()
    )
    back = _refund_sums(RefundStatus.SUCCEEDED)
    pending = _refund_sums(RefundStatus.PENDING, RefundStatus.PROCESSING, label="n", count=True)
    refused = _refund_sums(RefundStatus.FAILED)
    stmt = (
        select(
            Pledge.id,
            Pledge.project_id,
            Pledge.status,
            Pledge.total.label("total"),
            (func.coalesce(paid.c.amount, 0) - func.coalesce(back.c.amount, 0)).label("net"),
            func.coalesce(pending.c.n, 0).label("pending_refunds"),
            func.coalesce(refused.c.amount, 0).label("refused"),
        )
        .outerjoin(paid, paid.c.pledge_id == Pledge.id)
        .outerjoin(back, back.c.pledge_id == Pledge.id)
        .outerjoin(pending, pending.c.pledge_id == Pledge.id)
        .outerjoin(refused, refused.c.pledge_id == Pledge.id)
    )
    if project_id is not None:
        stmt = stmt.where(Pledge.project_id == project_id)
    return list(db.session.execute(stmt))


def _projects(project_id: int | None) -> list[Row]:
    """Each project with its shown totals, what its held and collected pledges add up to
    (``held_amount``, ``held_count``) and its escrow account's balance (``escrow``)."""
    held = (
        select(
            Pledge.project_id,
            func.coalesce(func.sum(Pledge.total), 0).label("amount"),
            func.count().label("n"),
        )
        .where(Pledge.status.in_([PledgeStatus.HELD, PledgeStatus.COLLECTED]))
        .group_by(Pledge.project_id)
        .subquery()
    )
    escrow = (
        select(LedgerEntry.account, func.sum(LedgerEntry.amount).label("amount"))
        .where(LedgerEntry.account.like("escrow:%"))
        .group_by(LedgerEntry.account)
        .subquery()
    )
    read = (
        select(Pledge.project_id, func.sum(Payment.processing_fee).label("amount"))
        .join(Payment, Payment.pledge_id == Pledge.id)
        .where(Payment.processing_fee.is_not(None))
        .group_by(Pledge.project_id)
        .subquery()
    )
    booked = (
        select(LedgerTransaction.project_id, func.sum(LedgerEntry.amount).label("amount"))
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account == STRIPE_FEES)
        .group_by(LedgerTransaction.project_id)
        .subquery()
    )
    stmt = (
        select(
            Project.id,
            Project.status,
            Project.pledged_amount,
            Project.backer_count,
            func.coalesce(held.c.amount, 0).label("held_amount"),
            func.coalesce(held.c.n, 0).label("held_count"),
            func.coalesce(escrow.c.amount, 0).label("escrow"),
            func.coalesce(read.c.amount, 0).label("fees_read"),
            func.coalesce(booked.c.amount, 0).label("fees_booked"),
        )
        .outerjoin(held, held.c.project_id == Project.id)
        .outerjoin(escrow, escrow.c.account == literal("escrow:") + cast(Project.id, String))
        .outerjoin(read, read.c.project_id == Project.id)
        .outerjoin(booked, booked.c.project_id == Project.id)
    )
    if project_id is not None:
        stmt = stmt.where(Project.id == project_id)
    return list(db.session.execute(stmt))


def _project_balance(project_id: int, account: str, kind: str | None = None) -> int:
    """The net of one account's entries in a project's transactions (of one kind)."""
    stmt = (
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.project_id == project_id, LedgerEntry.account == account)
    )
    if kind is not None:
        stmt = stmt.where(LedgerTransaction.kind == kind)
    return int(db.session.scalar(stmt))


def _payouts(project_id: int | None) -> list[Payout]:
    stmt = select(Payout).where(Payout.status == PayoutStatus.SUCCEEDED)
    if project_id is not None:
        stmt = stmt.where(Payout.project_id == project_id)
    return list(db.session.scalars(stmt))
