"""The funding series (one row per project and hour in which its pledged total moved) and the
creator's referral tags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db


class FundingHour(db.Model):
    """What happened to a project's pledged total in one hour (UTC): each column is the sum of
    that hour's changes, so the running sum of ``pledged`` and ``backers`` is the total the
    project page shows at the end of the hour."""

    __tablename__ = "funding_series"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    pledged: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units, net change
    backers: Mapped[int] = mapped_column(default=0)  # net change
    new_pledges: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    cancelled: Mapped[int] = mapped_column(default=0)


TAG_LABEL_MAX = 80
TAGS_PER_PROJECT = 50


class ReferralTag(db.Model):
    """A ``?ref=`` tag the creator puts in links to the project page (a newsletter, a post),
    so the dashboard can tell which pledges came through it."""

    __tablename__ = "referral_tags"
    __table_args__ = (UniqueConstraint("project_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    tag: Mapped[str] = mapped_column(String(40))  # a-z, 0-9 and hyphens (referrals.TAG_PATTERN)
    label: Mapped[str] = mapped_column(String(TAG_LABEL_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
