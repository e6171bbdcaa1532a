"""The funding series: one row per project and hour in which its pledged total moved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

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
