"""Reward tiers: what a backer gets for a pledge of at least the tier's minimum."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.rewards import domain

if TYPE_CHECKING:
    from app.projects.models import Project


class Offer:
    """What a reward tier and an add-on share: shipping rules and a limited number of places.

    ``claimed`` is raised only by one conditional UPDATE (app/pledges/services/places.py)."""

    # The class using it maps project, quantity_limit, claimed, is_closed, shipping_rules.

    @property
    def ships(self) -> bool:
        return bool(self.shipping_rules)

    @property
    def rules(self) -> tuple[domain.Rule, ...]:
        return tuple(domain.Rule(r.destination, r.fee) for r in self.shipping_rules)

    @property
    def fees_by_destination(self) -> dict[str, int]:
        return {r.destination: r.fee for r in self.shipping_rules}

    def shipping_fee_to(self, country: str) -> int | None:
        """The fee to ship this to ``country``; None: it does not ship there."""
        return domain.fee_to(self.rules, country, self.project.country)

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


class RewardTier(Offer, db.Model):
    __tablename__ = "reward_tiers"
    __table_args__ = (
        CheckConstraint("minimum_amount > 0", name="minimum_positive"),
        CheckConstraint("quantity_limit IS NULL OR quantity_limit > 0", name="limit_positive"),
        CheckConstraint("claimed >= 0", name="claimed_not_negative"),
        CheckConstraint(
            "quantity_limit IS NULL OR claimed <= quantity_limit", name="claimed_within_limit"
        ),
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
    is_closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    project: Mapped[Project] = relationship(back_populates="tiers")
    # No rules: a digital reward, nothing ships. The one source of a tier's shipping.
    shipping_rules: Mapped[list[TierShippingRule]] = relationship(
        back_populates="tier",
        cascade="all, delete-orphan",
        order_by="TierShippingRule.id",
        lazy="selectin",
    )


class TierShippingRule(db.Model):
    """One destination a tier ships to, with its fee (see ``app.rewards.domain``)."""

    __tablename__ = "tier_shipping_rules"
    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        UniqueConstraint("tier_id", "destination"),  # one fee per destination
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tier_id: Mapped[int] = mapped_column(
        ForeignKey("reward_tiers.id", ondelete="CASCADE"), index=True
    )
    destination: Mapped[str] = mapped_column(String(16))  # a region or an alpha-2 code
    fee: Mapped[int] = mapped_column(BigInteger)  # minor units of the project's currency

    tier: Mapped[RewardTier] = relationship(back_populates="shipping_rules")
