"""A comment on a project, or on one of its updates, and its one level of replies."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime, enum_type
from app.extensions import db

if TYPE_CHECKING:
    from app.accounts.models import User

BODY_MAX = 5000
REASON_MAX = 500


class HiddenBy(enum.StrEnum):
    CREATOR = "creator"
    MODERATOR = "moderator"


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # A thread's page: its top-level comments in order, then the replies of those.
        Index("ix_comments_thread", "project_id", "update_id", "parent_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    # The update it is about (None: the project itself).
    update_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Deleted by its author: the words are gone, the replies stay.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Hidden by the creator or a moderator: the words and the reason kept for moderators.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by: Mapped[HiddenBy | None] = mapped_column(enum_type(HiddenBy, "comment_hidden_by"))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")

    author: Mapped[User] = relationship("User", foreign_keys=[author_id], lazy="raise")

    @property
    def is_reply(self) -> bool:
        return self.parent_id is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def hidden_by_creator(self) -> bool:
        return self.hidden_by is HiddenBy.CREATOR

    @property
    def is_shown(self) -> bool:
        return not self.is_deleted and not self.is_hidden
