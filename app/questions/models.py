"""The FAQ entries a creator publishes on the project page, and the private questions that
signed-in visitors ask the creator (answered privately, and published to the FAQ if the
creator chooses)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db

if TYPE_CHECKING:
    from app.accounts.models import User

QUESTION_MAX = 300  # an FAQ entry's question
ANSWER_MAX = 5000
ASK_MAX = 1000  # what a visitor asks


class FaqEntry(db.Model):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    question: Mapped[str] = mapped_column(String(QUESTION_MAX))
    answer: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)  # shown in this order, then by id
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)


class Question(db.Model):
    """Asked privately: only the asker and the creator read it."""

    __tablename__ = "project_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The FAQ entry the creator made of it, if they published it.
    faq_entry_id: Mapped[int | None] = mapped_column(ForeignKey("faq_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    asker: Mapped[User] = relationship("User")

    @property
    def is_answered(self) -> bool:
        return self.answer is not None
