"""A project's stretch goals: amounts above its goal, each with a title and a description."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db

TITLE_MAX = 80
DESCRIPTION_MAX = 2000


class StretchGoal(db.Model):
    __tablename__ = "stretch_goals"
    # Above the project's goal is checked by the service (another table); one goal per amount.
    __table_args__ = (
        UniqueConstraint("project_id", "amount"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units of the project's currency
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")  # plain text, escaped when shown
    # Set once, by the first pledge that took the total past the amount (a conditional UPDATE).
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    @property
    def is_reached(self) -> bool:
        return self.reached_at is not None

    def __repr__(self) -> str:
        return f"<StretchGoal {self.id} {self.amount} of project {self.project_id}>"
