"""Ledger transactions and their entries. Rows are only ever added, never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # charge, refund, payout, fee
    # What caused it, e.g. "payment:12" or "refund:7": unique, so nothing is booked twice.
    source: Mapped[str] = mapped_column(String(100), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )


class LedgerEntry(db.Model):
    """One side of a movement: money into (positive) or out of (negative) an account."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


class LedgerIsAppendOnly(Exception):
    """Ledger rows cannot be changed or deleted; correct with a new reversing transaction."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_edits(session: Session, _context, _instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, LedgerTransaction | LedgerEntry) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise LedgerIsAppendOnly(f"{type(obj).__name__} {obj.id} cannot be changed")
