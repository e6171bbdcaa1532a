"""What the scheduled reconciliation found, one row per check of an ended project."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime
from app.extensions import db


class Reconciliation(db.Model):
    """One comparison of a project's books with Stripe (``app.audit.reconcile``), kept: the
    public money page shows the latest, and the next check of the project is due 30 days on.
    ``chain_head`` is the hash of the last line of the project's ledger export at that time,
    so anyone who saved an export can tell whether an entry was rewritten since."""

    __tablename__ = "reconciliations"
    __table_args__ = (Index("ix_reconciliations_project_checked", "project_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool]
    differences: Mapped[str] = mapped_column(Text, default="")  # one per line, none when ok
    transactions: Mapped[int] = mapped_column(default=0)  # the ledger's, for the project
    chain_head: Mapped[str] = mapped_column(String(64), default="")
