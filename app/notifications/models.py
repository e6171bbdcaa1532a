"""The outbox: one row per e-mail, written with the state change it tells about."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be sent, now or after its backoff
    SENDING = "sending"  # claimed by a sender until claimed_until
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS: needs a human


class Outbox(db.Model):
    """An e-mail to send. The text is rendered when it is sent, from the kind's template and
    the facts snapshotted here (address, amount) and the rows it refers to."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_pledge_id", "pledge_id"),  # messages about one pledge go in order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the message is about, e.g. "project_funded_backer:42": a repeated enqueue of the
    # same news (a resumed settlement) adds nothing.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # the template's name
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(80), default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"))
    amount: Mapped[int | None] = mapped_column(BigInteger)  # minor units, as of the news
    currency: Mapped[str | None] = mapped_column(String(3))
    # Other facts of the news, as they were when it happened (the amounts before and after a
    # change, the refunds it planned, a moderator's reason, a digest's lines): JSON.
    data: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            name="outbox_status",
            native_enum=False,
            create_constraint=True,
            length=10,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        ),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Outbox {self.id} {self.key} {self.status.value}>"


class MailOptOut(db.Model):
    """A kind of mail (a ``Topic`` of ``app.notifications.preferences``) one user turned off.
    No row: they get it. Receipts and money mail have no topic and cannot be turned off."""

    __tablename__ = "mail_opt_outs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)


class MailDigest(db.Model):
    """One digest written to one user: the period it covers. Unique per user, kind and end,
    so two scheduler runs on the same day write one digest, not two."""

    __tablename__ = "mail_digests"
    __table_args__ = (UniqueConstraint("user_id", "kind", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
