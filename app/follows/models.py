"""Who follows which project, and which of the follow's two mails have been written."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db

if TYPE_CHECKING:
    from app.projects.models import Project


class Follow(db.Model):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    # Set once the mail is in the outbox, so each goes once per follower.
    launch_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    project: Mapped[Project] = relationship("Project", lazy="joined")
