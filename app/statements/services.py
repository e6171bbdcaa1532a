"""A settled project's statement and its backers' CSV, read from the rows and the ledger.

Every figure is summed by the database (no pledge list is loaded to add it up), so a project
with hundreds of thousands of pledges costs a handful of aggregate queries, one page of the
pledge table (an index range from a pledge id, never an OFFSET), and a CSV streamed in
batches.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.addons import queries as addon_queries
from app.audit.models import Reconciliation
from app.extensions import db
from app.ledger import export
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.money import to_major_text
from app.payouts.models import Payout, PayoutStatus
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards.models import RewardTier

S = ProjectStatus
# Backers to send rewards to: their money is in escrow or in the payout.
FULFILMENT_STATUSES = (PledgeStatus.HELD, PledgeStatus.COLLECTED)
PLEDGES_PER_PAGE = 50
# Page cursors are pledge ids, an INTEGER column: PostgreSQL refuses a larger number.
MAX_CURSOR = 2**31 - 1
CSV_BATCH = 1000


def has_statement(project: Project) -> bool:
    return project.has_statement


@dataclass(frozen=True)
class AccountTotal:
    """The net of a project's ledger entries on one account (backers taken together)."""

    account: str
    amount: int
    accounts: int = 1  # how many accounts it stands for (the backers)


@dataclass(frozen=True)
class Statement:
    project: Project
    gross: int  # succeeded payments
    payments: int
    refunded: int  # succeeded refunds
    refunds: int
    refunds_pending: int
    refunds_failed: int
    payout: Payout | None
    escrow_left: int  # the ledger's escrow balance of the project
    processing_fees: int  # what Stripe kept of the project's charges (the fees read so far)
    fees_unread: int  # succeeded payments whose fee is not read from Stripe yet
    accounts: list[AccountTotal]
    pledges_by_status: dict[str, int]

    @property
    def currency(self) -> str:
        return self.project.currency

    @property
    def kept(self) -> int:
        """Charged and not refunded: what the fee, the payout and escrow share."""
        return self.gross - self.refunded

    @property
    def balanced(self) -> bool:
        """fee + payout + refunds + escrow left == charged, to the cent."""
        paid = self.payout.gross if self._paid_out else 0  # fee + processing fees + net
        return paid + self.refunded + self.escrow_left == self.gross

    @property
    def paid_to_creator(self) -> int:
        """What the payout transferred (nothing before it succeeds, or without one)."""
        return self.payout.net if self._paid_out else 0

    @property
    def fees_on_platform(self) -> int:
        """The processing fees the platform bears: all of them less what the payout deducts
        (on refunded pledges always; on the rest too when it pays them)."""
        deducted = self.payout.processing_fee if self._paid_out else 0
        return self.processing_fees - deducted

    @property
    def pledge_count(self) -> int:
        """Every pledge of the project (the pledge table's total), from the count by status."""
        return sum(self.pledges_by_status.values())

    @property
    def _paid_out(self) -> bool:
        return self.payout is not None and self.payout.status is PayoutStatus.SUCCEEDED


def statement(project: Project) -> Statement:
    pid = project.id
    gross, payments, processing_fees, fees_read = db.session.execute(
        select(
            func.coalesce(func.sum(Payment.amount), 0),
            func.count(Payment.id),
            func.coalesce(func.sum(Payment.processing_fee), 0),
            func.count(Payment.processing_fee),
        )
        .join(Pledge, Pledge.id == Payment.pledge_id)
        .where(Pledge.project_id == pid, Payment.status == PaymentStatus.SUCCEEDED)
    ).one()
    refund_rows = db.session.execute(
        select(Refund.status, func.coalesce(func.sum(Refund.amount), 0), func.count(Refund.id))
        .join(Pledge, Pledge.id == Refund.pledge_id)
        .where(Pledge.project_id == pid)
        .group_by(Refund.status)
    ).all()
    # Sums are integers (PostgreSQL hands back Decimal for SUM of BIGINT).
    refunds = {status: (int(amount), n) for status, amount, n in refund_rows}
    refunded, refund_count = refunds.get(RefundStatus.SUCCEEDED, (0, 0))
    by_status = dict(
        db.session.execute(
            select(Pledge.status, func.count())
            .where(Pledge.project_id == pid)
            .group_by(Pledge.status)
        ).all()
    )
    return Statement(
        project=project,
        gross=int(gross),
        payments=payments,
        refunded=refunded,
        refunds=refund_count,
        refunds_pending=refunds.get(RefundStatus.PENDING, (0, 0))[1]
        + refunds.get(RefundStatus.PROCESSING, (0, 0))[1],
        refunds_failed=refunds.get(RefundStatus.FAILED, (0, 0))[1],
        payout=db.session.scalar(select(Payout).where(Payout.project_id == pid)),
        escrow_left=int(ledger.balance(ledger.escrow(pid))),
        processing_fees=int(processing_fees),
        fees_unread=payments - fees_read,
        accounts=account_totals(pid),
        pledges_by_status={
            status.value: by_status[status] for status in PledgeStatus if status in by_status
        },
    )


def account_totals(project_id: int) -> list[AccountTotal]:
    """The project's ledger summed by account; every ``backer:`` account as one line."""
    group = case((LedgerEntry.account.like("backer:%"), "backers"), else_=LedgerEntry.account)
    rows = db.session.execute(
        select(
            group.label("account"),
            func.sum(LedgerEntry.amount),
            func.count(func.distinct(LedgerEntry.account)),
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.project_id == project_id)
        .group_by(group)
        .order_by(group)
    ).all()
    return [AccountTotal(account, int(amount), n) for account, amount, n in rows]


# ---- the pledge table -------------------------------------------------------------------


@dataclass(frozen=True)
class PledgePage:
    """One page of the pledge table, oldest first, found by seeking from a pledge id (keyset
    pagination: no OFFSET, so the last page costs what the first does). ``first_id`` and
    ``last_id`` are the project's lowest and highest pledge ids (None without pledges)."""

    pledges: list[Pledge]
    first_id: int | None
    last_id: int | None

    @property
    def at_start(self) -> bool:
        """Nothing before this page (it shows the project's first pledge, or there is none)."""
        return self.first_id is None or (bool(self.pledges) and self.pledges[0].id == self.first_id)

    @property
    def at_end(self) -> bool:
        return self.last_id is None or (bool(self.pledges) and self.pledges[-1].id == self.last_id)

    @property
    def has_prev(self) -> bool:
        return bool(self.pledges) and not self.at_start

    @property
    def has_next(self) -> bool:
        return bool(self.pledges) and not self.at_end

    @property
    def end(self) -> int | None:
        """The ``before`` of the last page."""
        return None if self.last_id is None else self.last_id + 1


def pledge_page(
    project_id: int,
    after: int | None = None,
    before: int | None = None,
    per_page: int | None = None,
) -> PledgePage:
    """The ``per_page`` pledges after the id ``after``, or (going back) the ones before
    ``before``, or the first ones, with payments and refunds loaded."""
    per_page = per_page or PLEDGES_PER_PAGE
    first_id, last_id = db.session.execute(bounds_query(project_id)).one()
    if before is not None and after is None:
        stmt = page_query(project_id, before=before, per_page=per_page)
        pledges = list(reversed(db.session.scalars(stmt).all()))
    else:
        stmt = page_query(project_id, after=after, per_page=per_page)
        pledges = list(db.session.scalars(stmt).all())
    return PledgePage(pledges, first_id, last_id)


def bounds_query(project_id: int) -> Select:
    """The project's lowest and highest pledge ids: one look each at the index's ends."""
    return select(func.min(Pledge.id), func.max(Pledge.id)).where(Pledge.project_id == project_id)


def page_query(
    project_id: int, *, after: int | None = None, before: int | None = None, per_page: int
) -> Select:
    """One range of the project's pledges by id from the cursor, read in order from an index
    (``ix_pledges_project_id``; going back, PostgreSQL may walk the primary key down from the
    cursor instead), so every page costs the same, however far it is."""
    stmt = (
        select(Pledge)
        .where(Pledge.project_id == project_id)
        .options(
            selectinload(Pledge.payments),
            selectinload(Pledge.refunds),
            selectinload(Pledge.addon_lines),
        )
        .limit(per_page)
    )
    if before is not None:
        return stmt.where(Pledge.id < before).order_by(Pledge.id.desc())
    if after is not None:
        stmt = stmt.where(Pledge.id > after)
    return stmt.order_by(Pledge.id)


# ---- the backers' CSV -------------------------------------------------------------------

CSV_HEADER = (
    "pledge_id",
    "backer_name",
    "backer_email",
    "tier",
    "amount",
    "add_ons",
    "add_ons_amount",
    "shipping_fee",
    "shipping_country",
    "total",
    "currency",
    "status",
    "pledged_at",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): it is
# prefixed with a single quote. Tab and carriage return are included as OWASP advises.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_pledges(project: Project) -> str:
    """Which pledges the CSV lists, for the page to say."""
    if project.was_funded:
        return gettext("backers to fulfil: pledges held or collected")
    return gettext("every pledge, with its status")


def csv_header() -> str:
    return ",".join(CSV_HEADER) + "\r\n"


def backers_csv(project: Project, batch: int | None = None) -> Iterator[str]:
    """The CSV as chunks for a streamed response: the header, then a chunk per batch of rows
    read with ``yield_per`` (a server-side cursor on PostgreSQL), so a project with 200,000
    pledges never has more than one batch in memory.

    The body is read after the view has returned and its contexts are gone, so the rows are
    read in an application context of their own. It is entered after the header: a server
    (and the test client) may pull the first chunk inside the request and the rest
    elsewhere, and a context must be left where it was entered. ``stream_with_context``
    enters the request's contexts in the view, so it fails there.
    """
    app = current_app._get_current_object()
    args = (project.id, project.currency, project.was_funded, batch or CSV_BATCH)

    def chunks() -> Iterator[str]:
        yield csv_header()
        with app.app_context():
            yield from _csv_rows(*args)

    return chunks()


def _csv_rows(project_id: int, currency: str, funded: bool, batch: int) -> Iterator[str]:
    stmt = (
        select(
            Pledge.id,
            User.display_name,
            User.email,
            RewardTier.title,
            Pledge.amount,
            addon_queries.lines_text(Pledge.id).label("add_ons"),
            Pledge.addons_amount,
            Pledge.shipping_fee,
            Pledge.shipping_country,
            Pledge.total.label("total"),
            Pledge.status,
            Pledge.created_at,
        )
        .join(User, User.id == Pledge.backer_id)
        .join(RewardTier, RewardTier.id == Pledge.tier_id)
        .where(Pledge.project_id == project_id)
        .order_by(Pledge.id)
        .execution_options(yield_per=batch)
    )
    if funded:
        stmt = stmt.where(Pledge.status.in_(FULFILMENT_STATUSES))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for rows in db.session.execute(stmt).partitions():
        for row in rows:
            writer.writerow(
                safe_cell(value)
                for value in (
                    row.id,
                    row.display_name,
                    row.email,
                    row.title,
                    to_major_text(row.amount, currency),
                    row.add_ons or "",
                    to_major_text(row.addons_amount, currency),
                    to_major_text(row.shipping_fee, currency),
                    row.shipping_country or "",
                    to_major_text(row.total, currency),
                    currency,
                    row.status.value,
                    _utc_iso(row.created_at),
                )
            )
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---- the public money page and the ledger export ------------------------------------------


def export_stream(project_id: int) -> Iterator[str]:
    """``export_lines`` for a streamed response, read in an application context of its own
    entered after a first, empty chunk (see ``backers_csv`` for why)."""
    app = current_app._get_current_object()

    def chunks() -> Iterator[str]:
        yield ""
        with app.app_context():
            yield from export.lines_of(project_id)

    return chunks()


def latest_reconciliation(project_id: int) -> Reconciliation | None:
    return db.session.scalar(
        select(Reconciliation)
        .where(Reconciliation.project_id == project_id)
        .order_by(Reconciliation.checked_at.desc(), Reconciliation.id.desc())
        .limit(1)
    )


def public_differences(text: str) -> list[str]:
    """The differences a check found, fit for anyone: no backer's account number."""
    return [re.sub(r"\bbacker:\d+", "backer", line) for line in text.splitlines() if line]
