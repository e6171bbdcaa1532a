"""A reward on its way: one row per collected pledge once its creator marks it as shipped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.fulfilment.domain import PROBLEM_MAX, TRACKING_MAX

__all__ = ["PROBLEM_MAX", "TRACKING_MAX", "Shipment"]


class Shipment(db.Model):
    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_project_received", "project_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per pledge: marking again updates this row (the constraint settles two at once).
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))  # the pledge's, for sums
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    tracking_number: Mapped[str] = mapped_column(String(TRACKING_MAX), default="")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Raised when the backer has news (shipped, or a new tracking number): the mail's key
    # names it, so marking again with the same number mails nobody.
    notice: Mapped[int] = mapped_column(default=1, server_default="1")
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    problem: Mapped[str] = mapped_column(Text, default="", server_default="")  # plain text
    problem_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_received(self) -> bool:
        return self.received_at is not None

    @property
    def has_problem(self) -> bool:
        return self.problem_at is not None

    def __repr__(self) -> str:
        return f"<Shipment {self.id} of pledge {self.pledge_id}>"
