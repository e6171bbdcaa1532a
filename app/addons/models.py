"""Add-ons a project offers, and the add-on lines of pledges and of the payments that change
them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.rewards.models import Offer

if TYPE_CHECKING:
    from app.projects.models import Project


class Addon(Offer, db.Model):
    """An extra a backer of any tier may add, ``price`` each (minor units of the project)."""

    __tablename__ = "addons"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
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
    price: Mapped[int] = mapped_column(BigInteger)
    quantity_limit: Mapped[int | None]  # None: unlimited
    # Items taken by pledges (pending or held); moved only by conditional UPDATEs.
    claimed: Mapped[int] = mapped_column(default=0)
    is_closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    project: Mapped[Project] = relationship(back_populates="addons")
    shipping_rules: Mapped[list[AddonShippingRule]] = relationship(
        back_populates="addon",
        cascade="all, delete-orphan",
        order_by="AddonShippingRule.id",
        lazy="selectin",
    )


class AddonShippingRule(db.Model):
    """One destination an add-on ships to, with its fee per item (``app.rewards.domain``)."""

    __tablename__ = "addon_shipping_rules"
    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        UniqueConstraint("addon_id", "destination"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str] = mapped_column(String(16))
    fee: Mapped[int] = mapped_column(BigInteger)

    addon: Mapped[Addon] = relationship(back_populates="shipping_rules")


class _Line:
    """An add-on taken ``quantity`` times: ``amount`` is price times quantity and
    ``shipping_fee`` the add-on's fee to the pledge's country times quantity, as priced
    when the line was made (a later price change does not touch it)."""

    quantity: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    shipping_fee: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def total(self) -> int:
        return self.amount + self.shipping_fee


class PledgeAddon(_Line, db.Model):
    """The add-ons a pledge holds now."""

    __tablename__ = "pledge_addons"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), primary_key=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id"), primary_key=True, index=True)

    addon: Mapped[Addon] = relationship(lazy="joined")


class PaymentAddon(_Line, db.Model):
    """The add-ons a pledge will hold once this payment succeeds (like its ``target_*``)."""

    __tablename__ = "payment_addons"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id"), primary_key=True)

    addon: Mapped[Addon] = relationship(lazy="joined")
