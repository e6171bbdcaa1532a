"""A report: who reported what, why, and what the moderators decided."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime, enum_type
from app.extensions import db
from app.i18n import N_, gettext

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.comments.models import Comment
    from app.projects.models import Project
    from app.updates.models import Update

DETAILS_MAX = 2000


class ReportReason(enum.StrEnum):
    FRAUD = "fraud"
    PROHIBITED = "prohibited"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    OFFENSIVE = "offensive"
    SPAM = "spam"
    OTHER = "other"

    @property
    def label(self) -> str:
        return gettext(REASON_LABELS[self])


REASON_LABELS = {
    ReportReason.FRAUD: N_("Fraud or a scam: the creator cannot or will not deliver"),
    ReportReason.PROHIBITED: N_("A prohibited item or a project against the rules"),
    ReportReason.INTELLECTUAL_PROPERTY: N_("Someone else's work or trademark"),
    ReportReason.OFFENSIVE: N_("Offensive, hateful or violent content"),
    ReportReason.SPAM: N_("Spam or misleading"),
    ReportReason.OTHER: N_("Something else"),
}


class ReportTarget(enum.StrEnum):
    """What a report is about: the project, or one of its comments or updates (each with its
    own nullable column)."""

    PROJECT = "project"
    COMMENT = "comment"
    UPDATE = "update"


# What a comment or an update may be reported for (fraud and prohibited projects are about
# projects).
CONTENT_REASONS = (
    ReportReason.OFFENSIVE,
    ReportReason.SPAM,
    ReportReason.INTELLECTUAL_PROPERTY,
    ReportReason.OTHER,
)


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # looked at: nothing against the rules
    ACTED_ON = "acted_on"  # the project was suspended, the comment hidden, the update removed

    @property
    def label(self) -> str:
        return gettext(STATUS_LABELS[self])


STATUS_LABELS = {
    ReportStatus.OPEN: N_("waiting for a moderator"),
    ReportStatus.DISMISSED: N_("dismissed"),
    ReportStatus.ACTED_ON: N_("project suspended"),
}


class Report(db.Model):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    # What is reported: the project itself, or one of its comments (``comment_id``) or
    # updates (``update_id``), also ``target_id``. Reports are grouped by target type and id.
    target_type: Mapped[str] = mapped_column(String(20), default=ReportTarget.PROJECT.value)
    target_id: Mapped[int]
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id"), index=True)
    reason: Mapped[ReportReason] = mapped_column(enum_type(ReportReason, "report_reason"))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, "report_status"), default=ReportStatus.OPEN, index=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    project: Mapped[Project] = relationship("Project")
    comment: Mapped[Comment | None] = relationship("Comment")
    update: Mapped[Update | None] = relationship("Update")

    @property
    def outcome(self) -> str:
        """The status as its reporter reads it."""
        if self.status is ReportStatus.ACTED_ON and self.target_type in ACTED_ON_LABELS:
            return gettext(ACTED_ON_LABELS[self.target_type])
        return self.status.label


ACTED_ON_LABELS = {
    ReportTarget.COMMENT.value: N_("comment hidden"),
    ReportTarget.UPDATE.value: N_("update removed"),
}
