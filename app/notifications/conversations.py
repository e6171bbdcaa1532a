"""Mail about what people said: a question to a creator, its answer to the asker, and a
moderator's decision to each reporter. Each is written in the transaction of the event it
answers, once per question, answer or report (the outbox key names it)."""

from __future__ import annotations

from sqlalchemy import select

from app import events
from app.extensions import db
from app.notifications import preferences
from app.notifications.services import Kind, to_user
from app.projects.models import Project
from app.questions.models import Question
from app.reports.models import Report


def question_asked(event: events.QuestionAsked) -> None:
    """The creator hears of a new question (unless they turned these off)."""
    question = db.session.get(Question, event.question_id)
    owner_id = db.session.scalar(select(Project.owner_id).where(Project.id == question.project_id))
    if not preferences.wants(owner_id, preferences.Topic.QUESTIONS_ASKED):
        return
    kind = Kind.QUESTION_ASKED_CREATOR
    to_user(
        kind,
        f"{kind.value}:{question.id}",
        owner_id,
        project_id=question.project_id,
        data={"question": question.body},
    )


def question_answered(event: events.QuestionAnswered) -> None:
    """The asker reads the answer, and whether it is now in the FAQ."""
    question = db.session.get(Question, event.question_id)
    kind = Kind.QUESTION_ANSWERED_ASKER
    to_user(
        kind,
        f"{kind.value}:{question.id}",
        question.asker_id,
        project_id=question.project_id,
        data={
            "question": question.body,
            "answer": question.answer,
            "published": question.faq_entry_id is not None,
        },
    )


def reports_decided(event: events.ReportsDecided) -> None:
    """Each reporter is told what the moderators decided about their report."""
    kind = Kind.REPORT_DECIDED_REPORTER
    reports = db.session.execute(
        select(
            Report.id, Report.reporter_id, Report.project_id, Report.status, Report.target_type
        ).where(Report.id.in_(list(event.report_ids)))
    )
    for report in reports:
        to_user(
            kind,
            f"{kind.value}:{report.id}",
            report.reporter_id,
            project_id=report.project_id,
            data={"outcome": report.status.value, "target": report.target_type},
        )
