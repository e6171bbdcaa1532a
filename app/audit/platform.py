"""The platform's own books (``flask ledger platform``, the admin's books page): per month
and currency, what came in and went out, read from the ledger alone.

One aggregate over the ledger's entries, grouped by month, currency, kind and account (every
``escrow:<id>``, ``backer:<id>`` and ``creator:<id>`` taken together), and one over the
processing fees of pledges that ended refunded. Escrow at a month's end is the running sum
of every month before it, so a range that starts late still shows the true balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select

from app.db_types import month_of
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge


@dataclass
class Month:
    """One month of one currency, in minor units."""

    month: str  # YYYY-MM
    currency: str
    charged: int = 0  # backers' payments into escrow
    refunded: int = 0  # back to backers (less refunds that failed after they were made)
    fees_earned: int = 0  # the platform fee of payouts
    processing_paid: int = 0  # what Stripe kept of the charges
    processing_recovered: int = 0  # of that, deducted from creators' payouts
    processing_on_refunds: int = 0  # of that, on pledges that ended refunded
    transfers: int = 0  # paid out to creators
    escrow_end: int = 0  # held for projects at the month's end

    @property
    def processing_cost(self) -> int:
        """The processing fees the platform bore this month."""
        return self.processing_paid - self.processing_recovered

    @property
    def net_income(self) -> int:
        """Fees earned less the processing fees the platform bore."""
        return self.fees_earned - self.processing_cost


def _group(account):
    return case(
        (account.like("escrow:%"), "escrow"),
        (account.like("backer:%"), "backer"),
        (account.like("creator:%"), "creator"),
        else_=account,
    )


def months(start: str | None = None, end: str | None = None) -> list[Month]:
    """Every month with money moving (or money held), oldest first, each currency apart;
    ``start`` and ``end`` (``YYYY-MM``, inclusive) bound what is returned."""
    month = month_of(LedgerTransaction.created_at)
    account = _group(LedgerEntry.account)
    rows = db.session.execute(
        select(
            month.label("month"),
            LedgerTransaction.currency,
            LedgerTransaction.kind,
            account.label("account"),
            func.sum(LedgerEntry.amount),
        )
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .group_by(month, LedgerTransaction.currency, LedgerTransaction.kind, account)
    ).all()
    book: dict[tuple[str, str], Month] = {}

    def at(m: str, currency: str) -> Month:
        return book.setdefault((m, currency), Month(m, currency))

    escrow_moves: dict[tuple[str, str], int] = defaultdict(int)
    for m, currency, kind, acct, total in rows:
        row, total = at(m, currency), int(total)
        if acct == "escrow":
            escrow_moves[(m, currency)] += total
        if (kind, acct) == ("charge", "escrow"):
            row.charged += total
        elif (kind, acct) in (("refund", "escrow"), ("refund_failed", "escrow")):
            row.refunded -= total
        elif (kind, acct) == ("fee", ledger.PLATFORM_FEES):
            row.fees_earned += total
        elif acct == ledger.STRIPE_FEES:
            row.processing_paid += total
        elif (kind, acct) == ("fee_recovery", ledger.PLATFORM_PROCESSING):
            row.processing_recovered += total
        elif (kind, acct) == ("payout", "creator"):
            row.transfers += total
    for m, currency, total in _fees_on_refunded_pledges(month):
        at(m, currency).processing_on_refunds += int(total)
    held: dict[str, int] = defaultdict(int)
    for key in sorted(book):
        m, currency = key
        held[currency] += escrow_moves.get(key, 0)
        book[key].escrow_end = held[currency]
    return [
        book[key]
        for key in sorted(book)
        if (start is None or key[0] >= start) and (end is None or key[0] <= end)
    ]


def _fees_on_refunded_pledges(month):
    return db.session.execute(
        select(month, LedgerTransaction.currency, func.sum(LedgerEntry.amount))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(Pledge, Pledge.id == LedgerTransaction.pledge_id)
        .where(
            LedgerTransaction.kind == "processing_fee",
            LedgerEntry.account == ledger.STRIPE_FEES,
            Pledge.status == PledgeStatus.REFUNDED,
        )
        .group_by(month, LedgerTransaction.currency)
    ).all()
