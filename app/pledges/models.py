"""Pledges, the payments that fund them and the refunds that return them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.accounts.models import User
from app.addons.models import PaymentAddon, PledgeAddon
from app.db_types import UTCDateTime, enum_type
from app.extensions import db
from app.i18n import N_, gettext
from app.pledges.domain import PledgeStatus
from app.projects.models import Project
from app.rewards.models import RewardTier


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return gettext(MONEY_STATUS_LABELS[self.value])


class RefundStatus(enum.StrEnum):
    PENDING = "pending"  # to be made (or made, its answer not yet recorded): the sweeps retry
    PROCESSING = "processing"  # Stripe accepted it as pending: not booked until it succeeds
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return gettext(MONEY_STATUS_LABELS[self.value])


# The states of a payment, a refund or a payout, in the reader's language.
MONEY_STATUS_LABELS = {
    "pending": N_("pending"),
    "processing": N_("processing"),
    "succeeded": N_("succeeded"),
    "failed": N_("failed"),
}


# Refunds on their way: the money is still in escrow, but will leave it.
REFUND_IN_FLIGHT = (RefundStatus.PENDING, RefundStatus.PROCESSING)


OPEN_PLEDGE = text("status IN ('pending', 'held')")
OPEN_PAYMENT = text("status = 'pending'")
FEE_UNREAD = text("status = 'succeeded' AND processing_fee IS NULL")


class Pledge(db.Model):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("shipping_fee >= 0", name="shipping_not_negative"),
        CheckConstraint("addons_amount >= 0", name="addons_not_negative"),
        # One open pledge per backer and project: a double submit cannot make two.
        Index(
            "uq_pledges_open_backer_project",
            "project_id",
            "backer_id",
            unique=True,
            sqlite_where=OPEN_PLEDGE,
            postgresql_where=OPEN_PLEDGE,
        ),
        Index("ix_pledges_project_status", "project_id", "status"),
        # A project's pledges in id order: the statement's pages seek on it (no OFFSET).
        Index("ix_pledges_project_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("reward_tiers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # for the reward, minor units
    shipping_fee: Mapped[int] = mapped_column(BigInteger, default=0)  # the reward's
    # The add-ons' prices and their shipping: the sum of ``addon_lines`` (app/addons).
    addons_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[PledgeStatus] = mapped_column(
        enum_type(PledgeStatus, "pledge_status"), default=PledgeStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str] = mapped_column(Text, default="")
    disputed: Mapped[bool] = mapped_column(default=False)
    # Raised by every change: the one writer that bumps it holds the row (its lock on
    # PostgreSQL, the database's write lock on SQLite) until it commits; forms carry the
    # version they showed, so a change decided on a stale page is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Why an admin must look at this pledge (a webhook that disagreed with our rows, ...).
    attention: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Where the backer came from (app/referrals.py): one of the project's referral tags when
    # the pledge started, and the referring site's host name only; None when not known.
    ref_tag: Mapped[str | None] = mapped_column(String(40))
    referrer_host: Mapped[str | None] = mapped_column(String(255))

    project: Mapped[Project] = relationship(lazy="joined")
    backer: Mapped[User] = relationship(lazy="joined")
    tier: Mapped[RewardTier] = relationship(lazy="joined")
    payments: Mapped[list[Payment]] = relationship(back_populates="pledge", order_by="Payment.id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="pledge", order_by="Refund.id")
    addon_lines: Mapped[list[PledgeAddon]] = relationship(order_by="PledgeAddon.addon_id")

    @hybrid_property
    def total(self) -> int:
        """What the backer pays: the pledge, its add-ons, and shipping (also in SQL)."""
        return self.amount + self.addons_amount + self.shipping_fee

    @property
    def net_collected(self) -> int:
        """Money of this pledge in escrow now: succeeded payments less succeeded refunds."""
        paid = sum(p.amount for p in self.payments if p.status is PaymentStatus.SUCCEEDED)
        back = sum(r.amount for r in self.refunds if r.status is RefundStatus.SUCCEEDED)
        return paid - back

    @property
    def refused_difference(self) -> int:
        """Money of a held pledge in escrow beyond its total: a reduction whose refund Stripe
        refused. It waits for an admin to retry the refund; 0 for every other pledge."""
        if self.status is not PledgeStatus.HELD:
            return 0
        paid = sum(p.amount for p in self.payments if p.status is PaymentStatus.SUCCEEDED)
        back = sum(r.amount for r in self.refunds if r.status is not RefundStatus.FAILED)
        return max(0, paid - back - self.total)


class Payment(db.Model):
    """One PaymentIntent: the first payment of a pledge, or the difference when it grows.

    It carries the pledge terms it pays for; they apply when it succeeds.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # At most one open payment per pledge: a change waits for the previous one.
        Index(
            "uq_payments_open_per_pledge",
            "pledge_id",
            unique=True,
            sqlite_where=OPEN_PAYMENT,
            postgresql_where=OPEN_PAYMENT,
        ),
        Index("ix_payments_status_expires", "status", "expires_at"),
        # Succeeded payments whose Stripe processing fee has not been read yet (the sweep's).
        Index(
            "ix_payments_fee_unread",
            "id",
            sqlite_where=FEE_UNREAD,
            postgresql_where=FEE_UNREAD,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        enum_type(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), index=True)
    client_secret: Mapped[str | None] = mapped_column(String(255))  # for Stripe.js only
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the reservation ends
    failure_message: Mapped[str] = mapped_column(Text, default="")
    # The pledge terms this payment completes.
    target_tier_id: Mapped[int] = mapped_column(ForeignKey("reward_tiers.id"))
    target_amount: Mapped[int] = mapped_column(BigInteger)
    target_shipping_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    target_shipping_country: Mapped[str | None] = mapped_column(String(2))
    target_addons_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What Stripe kept of the charge (its balance transaction's fee, in minor units of the
    # payment's currency), read once the payment succeeded; None until then.
    processing_fee: Mapped[int | None] = mapped_column(BigInteger)
    stripe_balance_transaction_id: Mapped[str | None] = mapped_column(String(255))

    pledge: Mapped[Pledge] = relationship(back_populates="payments")
    target_addons: Mapped[list[PaymentAddon]] = relationship(order_by="PaymentAddon.addon_id")

    @property
    def target_total(self) -> int:
        return self.target_amount + self.target_addons_amount + self.target_shipping_fee


class Refund(db.Model):
    """Money going back to a backer from one payment; the row exists before Stripe is called."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[RefundStatus] = mapped_column(
        enum_type(RefundStatus, "refund_status"), default=RefundStatus.PENDING, index=True
    )
    reason: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    failure_message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    pledge: Mapped[Pledge] = relationship(back_populates="refunds")
    payment: Mapped[Payment] = relationship()


class StripeEvent(db.Model):
    """Webhook events already handled; the primary key makes a second delivery a no-op."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
