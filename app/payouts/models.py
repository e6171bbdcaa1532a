"""A creator's Stripe Connect (Express) account."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.accounts.models import User
from app.db_types import UTCDateTime
from app.extensions import db
from app.i18n import N_, gettext


class ConnectedAccount(db.Model):
    __tablename__ = "connected_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    stripe_account_id: Mapped[str] = mapped_column(String(255), unique=True)
    details_submitted: Mapped[bool] = mapped_column(default=False)
    charges_enabled: Mapped[bool] = mapped_column(default=False)
    payouts_enabled: Mapped[bool] = mapped_column(default=False)
    # What Stripe last said is still due (its field names, e.g. "individual.dob.day"), what
    # it is checking, why the account is disabled ("" if it is not), and each capability's
    # status ("transfers": "active").
    requirements_due: Mapped[list[str]] = mapped_column(JSON, default=list)
    pending_verification: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled_reason: Mapped[str] = mapped_column(String(100), default="")
    capabilities: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    user: Mapped[User] = relationship()

    @property
    def ready(self) -> bool:
        """Onboarding finished: transfers to this account can be made."""
        return self.details_submitted and self.payouts_enabled


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for onboarding, the balance, or a retry
    SUCCEEDED = "succeeded"

    @property
    def label(self) -> str:
        """In the reader's language."""
        return gettext({"pending": N_("pending"), "succeeded": N_("succeeded")}[self.value])


class Payout(db.Model):
    """The one transfer of a funded project's total, minus the fee, to its creator."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint(
            "fee >= 0 AND processing_fee >= 0 AND net >= 0 AND fee + processing_fee + net = gross",
            name="split_adds_up",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    gross: Mapped[int] = mapped_column(BigInteger)  # held total at the deadline
    fee: Mapped[int] = mapped_column(BigInteger)  # the platform's fee
    # Stripe's processing fees of the collected pledges, when the creator bears them
    # (PROCESSING_FEES_PAID_BY = creator); fixed just before the first transfer is sent.
    processing_fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    net: Mapped[int] = mapped_column(BigInteger)  # transferred to the creator
    status: Mapped[PayoutStatus] = mapped_column(
        Enum(
            PayoutStatus,
            name="payout_status",
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        ),
        default=PayoutStatus.PENDING,
    )
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    stripe_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
