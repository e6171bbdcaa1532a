"""Keeping the FAQ and answering questions. Services flush; the view commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from app import clock, events
from app.extensions import db
from app.i18n import N_
from app.moves import move
from app.projects.models import Project
from app.questions.models import FaqEntry, Question


class QuestionRefused(Exception):
    """A question that may not be asked or answered; the message is a catalogue entry."""


def entries(project_id: int) -> list[FaqEntry]:
    return list(
        db.session.scalars(
            select(FaqEntry)
            .where(FaqEntry.project_id == project_id)
            .order_by(FaqEntry.position, FaqEntry.id)
        )
    )


def add_entry(project: Project, question: str, answer: str) -> FaqEntry:
    last = db.session.scalar(
        select(func.max(FaqEntry.position)).where(FaqEntry.project_id == project.id)
    )
    entry = FaqEntry(
        project_id=project.id, question=question, answer=answer, position=(last or 0) + 1
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def update_entry(entry: FaqEntry, question: str, answer: str) -> None:
    entry.question, entry.answer, entry.updated_at = question, answer, clock.now()
    db.session.flush()


def delete_entry(entry: FaqEntry) -> None:
    """The entry goes; a question it was made from stays answered, no longer published."""
    db.session.execute(
        update(Question)
        .where(Question.faq_entry_id == entry.id)
        .values(faq_entry_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(entry)
    db.session.flush()


def ask(project: Project, asker_id: int, body: str) -> Question:
    if asker_id == project.owner_id:
        raise QuestionRefused(N_("This is your own project: add the answer to its FAQ instead."))
    if not project.is_public:
        raise QuestionRefused(N_("Questions can be asked once the project is live."))
    question = Question(project_id=project.id, asker_id=asker_id, body=body)
    db.session.add(question)
    db.session.flush()
    events.publish(events.QuestionAsked(question.id))
    return question


def answer(question: Question, text: str, publish_as: str | None = None) -> bool:
    """Answer once (two tabs of the creator: the second is refused, False); with
    ``publish_as`` (the question as it should read in the FAQ) the answer is also published."""
    won = move(
        Question,
        question.id,
        None,
        where=[Question.answer.is_(None)],
        answer=text,
        answered_at=clock.now(),
    )
    if not won:
        return False
    db.session.refresh(question)
    if publish_as:
        project = db.session.get(Project, question.project_id)
        entry = add_entry(project, publish_as, text)
        question.faq_entry_id = entry.id
        db.session.flush()
    events.publish(events.QuestionAnswered(question.id))
    return True


@dataclass(frozen=True)
class Section:
    """What the project page shows of the FAQ and questions to its reader."""

    entries: list[FaqEntry]
    mine: list[Question]  # the reader's own questions, newest first
    unanswered: int  # for the creator: questions waiting for an answer


def section(project: Project, reader_id: int | None) -> Section:
    mine: list[Question] = []
    unanswered = 0
    if reader_id is not None and reader_id == project.owner_id:
        unanswered = db.session.scalar(
            select(func.count()).where(Question.project_id == project.id, Question.answer.is_(None))
        )
    elif reader_id is not None:
        mine = list(
            db.session.scalars(
                select(Question)
                .where(Question.project_id == project.id, Question.asker_id == reader_id)
                .order_by(Question.id.desc())
            )
        )
    return Section(entries(project.id), mine, unanswered)


def questions_of(project_id: int) -> list[Question]:
    """For the creator: unanswered first (oldest first), then answered (newest first)."""
    rows = list(
        db.session.scalars(
            select(Question).where(Question.project_id == project_id).order_by(Question.id)
        )
    )
    waiting = [q for q in rows if not q.is_answered]
    done = [q for q in reversed(rows) if q.is_answered]
    return waiting + done
