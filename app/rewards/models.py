"""Reward tiers: what a backer gets for a pledge of at least the tier's minimum."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db

if TYPE_CHECKING:
    from app.projects.models import Project


class RewardTier(db.Model):
    __tablename__ = "reward_tiers"
    __table_args__ = (
        CheckConstraint("minimum_amount > 0", name="minimum_positive"),
        CheckConstraint("quantity_limit IS NULL OR quantity_limit > 0", name="limit_positive"),
        CheckConstraint("claimed >= 0", name="claimed_not_negative"),
        CheckConstraint(
            "quantity_limit IS NULL OR claimed <= quantity_limit", name="claimed_within_limit"
        ),
        CheckConstraint("shipping_fee IS NULL OR shipping_fee >= 0", name="shipping_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    minimum_amount: Mapped[int] = mapped_column(BigInteger)  # minor units of the project
    quantity_limit: Mapped[int | None]  # None: unlimited
    # Places taken by pledges (pending or held); raised only by one conditional UPDATE.
    claimed: Mapped[int] = mapped_column(default=0)
    estimated_delivery: Mapped[date]  # first day of the month
    shipping_fee: Mapped[int | None] = mapped_column(BigInteger)  # None: nothing ships
    is_closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    project: Mapped[Project] = relationship(back_populates="tiers")

    @property
    def ships(self) -> bool:
        return self.shipping_fee is not None

    @property
    def remaining(self) -> int | None:
        return None if self.quantity_limit is None else self.quantity_limit - self.claimed

    @property
    def sold_out(self) -> bool:
        return self.quantity_limit is not None and self.claimed >= self.quantity_limit

    @property
    def available(self) -> bool:
        return not self.is_closed and not self.sold_out

    @property
    def has_backers(self) -> bool:
        return self.claimed > 0
