"""A creator's update to a launched project: numbered per project, public or for backers only,
edited in place (the page says so) and removed softly, with a reason kept for moderators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db

if TYPE_CHECKING:
    from app.accounts.models import User

TITLE_MAX = 120
BODY_MAX = 50_000  # as a story
REASON_MAX = 2000


class Update(db.Model):
    __tablename__ = "updates"
    # The number is the project's next one, taken under a lock of the project row; the
    # constraint is the last word if two publishes ever read the same last number.
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    number: Mapped[int]  # "Update #3"
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)  # Markdown, sanitised when shown
    image: Mapped[str | None] = mapped_column(String(40))  # re-encoded, under instance/uploads
    public: Mapped[bool] = mapped_column(default=True)  # False: the full text for backers only
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delete_reason: Mapped[str] = mapped_column(Text, default="")  # for moderators only

    author: Mapped[User] = relationship("User", foreign_keys=[author_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Update {self.id} #{self.number} of project {self.project_id}>"
