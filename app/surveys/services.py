"""Building, sending, answering and locking a backer survey; the reminders, the response
rates, the fulfilment CSV and erasing a deleted account's answers. Services flush; the view,
job or command commits."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    BigInteger,
    String,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    update,
)

from app import clock
from app.accounts.models import User
from app.addons import queries as addon_queries
from app.extensions import db
from app.i18n import N_
from app.money import to_major_text
from app.moves import move
from app.notifications.models import Outbox
from app.notifications.services import COLUMNS, Kind, _constants, _insert_statement
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from app.rewards.models import RewardTier
from app.statements.services import safe_cell
from app.surveys import addresses
from app.surveys.domain import (
    MAX_QUESTIONS,
    REMINDER_DAYS,
    QuestionKind,
    SurveyMoveRefused,
    SurveyStatus,
    asks_tier,
    check_move,
)
from app.surveys.models import Survey, SurveyQuestion, SurveyResponse

# Who is asked: backers whose money is in escrow or was paid out to the creator.
ASKED = (PledgeStatus.HELD, PledgeStatus.COLLECTED)
REMINDER_COLUMNS = {2: SurveyResponse.reminded_2_at, 7: SurveyResponse.reminded_7_at}


class SurveyRefused(Exception):
    """The message is a catalogue entry."""


def may_have_survey(project: Project) -> bool:
    """Only a funded project surveys its backers."""
    return project.was_funded


def of_project(project_id: int) -> Survey | None:
    return db.session.scalar(select(Survey).where(Survey.project_id == project_id))


def start(project: Project) -> Survey:
    """The project's survey, made (a draft) on first use; an address is asked for by default
    when any tier ships something."""
    if not may_have_survey(project):
        raise SurveyRefused(N_("A survey can be sent once the project is funded."))
    survey = of_project(project.id)
    if survey is None:
        survey = Survey(project_id=project.id, asks_address=any(t.ships for t in project.tiers))
        db.session.add(survey)
        db.session.flush()
    return survey


def _draft(survey: Survey) -> None:
    if not survey.is_draft:
        raise SurveyRefused(N_("A sent survey cannot be changed."))


def set_address(survey: Survey, asks: bool) -> None:
    _draft(survey)
    survey.asks_address = asks
    db.session.flush()


def add_question(
    survey: Survey,
    kind: QuestionKind,
    prompt: str,
    options: list[str],
    tier_ids: list[int],
    required: bool,
) -> SurveyQuestion:
    """A question at the end of the survey; options only for a choice, tiers only the
    project's own."""
    _draft(survey)
    if len(survey.questions) >= MAX_QUESTIONS:
        raise SurveyRefused(N_("A survey has at most 30 questions."))
    own = {t.id for t in db.session.get(Project, survey.project_id).tiers}
    if not set(tier_ids) <= own:
        raise SurveyRefused(N_("Choose tiers of this project."))
    question = SurveyQuestion(
        survey_id=survey.id,
        position=max((q.position for q in survey.questions), default=0) + 1,
        kind=kind,
        prompt=prompt,
        options=options if kind is QuestionKind.CHOICE else [],
        tier_ids=sorted(set(tier_ids)),
        required=required,
    )
    db.session.add(question)
    db.session.flush()
    db.session.refresh(survey)
    return question


def remove_question(survey: Survey, question_id: int) -> bool:
    _draft(survey)
    result = db.session.execute(
        delete(SurveyQuestion).where(
            SurveyQuestion.id == question_id, SurveyQuestion.survey_id == survey.id
        )
    )
    db.session.flush()
    db.session.expire(survey, ["questions"])
    return result.rowcount == 1


def _move(survey: Survey, to: SurveyStatus, **values) -> None:
    """Compare-and-set from the state read; a second tab's move is refused with the reason."""
    try:
        check_move(survey.status, to)
    except SurveyMoveRefused as refused:
        raise SurveyRefused(str(refused)) from None
    if not move(Survey, survey.id, [survey.status], to, **values):
        db.session.refresh(survey)
        raise SurveyRefused(N_("Someone changed this survey at the same moment. Try again."))
    db.session.refresh(survey)


def send(survey: Survey) -> int:
    """Draft -> sent: a response row and a mail (through the outbox) for every pledge held or
    collected, each unique per survey and pledge, in this transaction. The number asked."""
    if not survey.asks_address and not survey.questions:
        raise SurveyRefused(N_("Ask for an address or add a question before sending."))
    now = clock.now()
    _move(survey, SurveyStatus.SENT, sent_at=now)
    pledges = (
        select(
            literal(survey.id),
            Pledge.id,
            Pledge.backer_id,
            literal(now, SurveyResponse.asked_at.type),
            literal({}, JSON),
        )
        .join(User, User.id == Pledge.backer_id)
        .where(
            Pledge.project_id == survey.project_id,
            Pledge.status.in_(ASKED),
            User.deleted_at.is_(None),
        )
    )
    db.session.execute(
        _insert_statement(SurveyResponse.__table__)
        .from_select(("survey_id", "pledge_id", "backer_id", "asked_at", "answers"), pledges)
        .on_conflict_do_nothing(index_elements=["survey_id", "pledge_id"])
    )
    _mail(Kind.SURVEY_SENT, "survey", survey.id, SurveyResponse.asked_at == now, {})
    return db.session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
    )


def _mail(kind: Kind, prefix: str, survey_id: int, which, data: dict) -> None:
    """One outbox row per response of ``survey_id`` matching ``which``, keyed
    ``<prefix>:<survey>:<pledge>`` (written again, nobody gets a second copy)."""
    k, status, attempts, next_at, created = _constants(kind)
    rows = (
        select(
            literal(f"{prefix}:{survey_id}:", String) + cast(SurveyResponse.pledge_id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            Pledge.project_id,
            SurveyResponse.pledge_id,
            cast(null(), BigInteger),
            cast(null(), String),
            status,
            attempts,
            next_at,
            created,
            literal(data, JSON),
        )
        .join(User, User.id == SurveyResponse.backer_id)
        .join(Pledge, Pledge.id == SurveyResponse.pledge_id)
        .where(SurveyResponse.survey_id == survey_id, which, User.deleted_at.is_(None))
    )
    db.session.execute(
        _insert_statement(Outbox.__table__)
        .from_select((*COLUMNS, "data"), rows)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    db.session.flush()


def lock(survey: Survey) -> None:
    """Sent -> locked: answers are final from now on."""
    _move(survey, SurveyStatus.LOCKED, locked_at=clock.now())


def write_due_reminders(now: datetime) -> None:
    """The scheduler's run: to every backer asked who has not answered, a reminder 2 days and
    one 7 days after the survey was sent, each at most once (the response row is claimed with
    a conditional UPDATE, then mailed from the rows this run claimed). A backer whose 7-day
    reminder is due is not sent the 2-day one as well."""
    for days in REMINDER_DAYS:
        column = REMINDER_COLUMNS[days]
        later = [d for d in REMINDER_DAYS if d > days]
        surveys = select(Survey.id).where(
            Survey.status == SurveyStatus.SENT,
            Survey.sent_at <= now - timedelta(days=days),
            *(Survey.sent_at > now - timedelta(days=d) for d in later),
        )
        db.session.execute(
            update(SurveyResponse)
            .where(
                SurveyResponse.survey_id.in_(surveys),
                SurveyResponse.answered_at.is_(None),
                SurveyResponse.erased_at.is_(None),
                column.is_(None),
            )
            .values({column.key: now})
            .execution_options(synchronize_session=False)
        )
        claimed = db.session.execute(
            select(SurveyResponse.survey_id).where(column == now).distinct()
        ).scalars()
        for survey_id in list(claimed):
            _mail(
                Kind.SURVEY_REMINDER,
                f"survey-reminder-{days}",
                survey_id,
                column == now,
                {"days": days},
            )
    db.session.flush()


# ---- answering -----------------------------------------------------------------------------


def response_of(pledge: Pledge) -> tuple[Survey, SurveyResponse] | None:
    """The survey this pledge was asked, and its response row; None if it was not asked."""
    row = db.session.execute(
        select(Survey, SurveyResponse)
        .join(SurveyResponse, SurveyResponse.survey_id == Survey.id)
        .where(SurveyResponse.pledge_id == pledge.id, Survey.project_id == pledge.project_id)
    ).first()
    return (row[0], row[1]) if row else None


def questions_for(survey: Survey, tier_id: int) -> list[SurveyQuestion]:
    """The questions a backer of ``tier_id`` is asked."""
    return [q for q in survey.questions if asks_tier(q.tier_ids, tier_id)]


@dataclass
class AnswerRefused(Exception):
    errors: dict[str, str]  # field name -> message


def check_answers(survey: Survey, tier_id: int, raw: dict[str, str]) -> dict[str, str]:
    """The answers to the tier's questions, checked (required, a listed option, length);
    AnswerRefused with a message per question otherwise. Answers to other questions are
    dropped."""
    from app.i18n import gettext
    from app.surveys.models import ANSWER_LINE_MAX, ANSWER_LONG_MAX

    answers, errors = {}, {}
    for question in questions_for(survey, tier_id):
        name = f"q{question.id}"
        value = (raw.get(name) or "").strip()
        if question.kind is QuestionKind.LINE:
            value = " ".join(value.split())
        limit = ANSWER_LONG_MAX if question.is_long else ANSWER_LINE_MAX
        if not value:
            if question.required:
                errors[name] = gettext("This question needs an answer.")
            continue
        if question.is_choice and value not in question.options:
            errors[name] = gettext("Choose one of the options.")
        elif len(value) > limit:
            errors[name] = gettext("At most %(count)d characters.", count=limit)
        else:
            answers[str(question.id)] = value
    if errors:
        raise AnswerRefused(errors)
    return answers


def answer(survey: Survey, response: SurveyResponse, address: dict | None, answers: dict) -> None:
    """Save (or change) the answers, while the survey takes them: the survey row is read
    under a shared lock (PostgreSQL), so a lock of the survey waits for answers being saved
    and an answer after the lock is refused; the write is conditional on the survey still
    being sent (SQLite)."""
    status = db.session.scalar(
        select(Survey.status).where(Survey.id == survey.id).with_for_update(read=True)
    )
    if status is not SurveyStatus.SENT:
        raise SurveyRefused(N_("The creator has locked the answers: they cannot be changed."))
    now = clock.now()
    still_open = (
        select(Survey.id).where(Survey.id == survey.id, Survey.status == SurveyStatus.SENT).exists()
    )
    won = db.session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.id == response.id, SurveyResponse.erased_at.is_(None), still_open)
        .values(
            address=address,
            answers=answers,
            answered_at=func.coalesce(SurveyResponse.answered_at, now),
            changed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise SurveyRefused(N_("The creator has locked the answers: they cannot be changed."))
    db.session.refresh(response)


# ---- the creator's view --------------------------------------------------------------------


@dataclass(frozen=True)
class TierRate:
    tier_id: int
    title: str
    asked: int
    answered: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


def rates(survey: Survey) -> list[TierRate]:
    """Answered / asked per tier, in the project's tier order."""
    answered = func.count(SurveyResponse.answered_at)
    rows = db.session.execute(
        select(RewardTier.id, RewardTier.title, func.count(SurveyResponse.id), answered)
        .join(Pledge, Pledge.tier_id == RewardTier.id)
        .join(SurveyResponse, SurveyResponse.pledge_id == Pledge.id)
        .where(SurveyResponse.survey_id == survey.id)
        .group_by(RewardTier.id, RewardTier.title, RewardTier.minimum_amount)
        .order_by(RewardTier.minimum_amount, RewardTier.id)
    )
    return [TierRate(*row) for row in rows]


def total_rate(found: list[TierRate]) -> TierRate:
    return TierRate(0, "", sum(r.asked for r in found), sum(r.answered for r in found))


@dataclass(frozen=True)
class Row:
    pledge: Pledge
    response: SurveyResponse


def table(survey: Survey, limit: int = 500) -> list[Row]:
    """The first ``limit`` pledges asked, with their responses (the CSV has them all)."""
    rows = db.session.execute(
        select(Pledge, SurveyResponse)
        .join(SurveyResponse, SurveyResponse.pledge_id == Pledge.id)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(Pledge.id)
        .limit(limit)
    )
    return [Row(p, r) for p, r in rows]


ADDRESS_COLUMNS = (
    "recipient",
    "street_address",
    "city_area",
    "city",
    "country_area",
    "postal_code",
    "sorting_code",
)


def csv_rows(survey: Survey, batch: int = 1000) -> Iterator[str]:
    """The fulfilment CSV: pledge, backer, reward, amount, address, add-ons, one column per
    question; every cell made safe for spreadsheets (statements.safe_cell)."""
    project = db.session.get(Project, survey.project_id)
    questions = list(survey.questions)
    header = [
        "pledge_id",
        "backer_name",
        "email",
        "reward_tier",
        "amount",
        "shipping_fee",
        "currency",
        *ADDRESS_COLUMNS,
        "country",
        "add_ons",
        "answered_at",
        *(f"q{q.id}: {q.prompt}" for q in questions),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_cell(c) for c in header)
    yield _drain(buffer)
    stmt = (
        select(
            Pledge.id,
            User.display_name,
            User.email,
            RewardTier.title,
            Pledge.amount,
            Pledge.shipping_fee,
            addon_queries.lines_text(Pledge.id).label("add_ons"),
            SurveyResponse.address,
            SurveyResponse.answers,
            SurveyResponse.answered_at,
        )
        .join(SurveyResponse, SurveyResponse.pledge_id == Pledge.id)
        .join(User, User.id == Pledge.backer_id)
        .join(RewardTier, RewardTier.id == Pledge.tier_id)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(Pledge.id)
        .execution_options(yield_per=batch)
    )
    for rows in db.session.execute(stmt).partitions():
        for row in rows:
            address = row.address or {}
            answers = row.answers or {}
            writer.writerow(
                safe_cell(v)
                for v in (
                    row.id,
                    row.display_name,
                    row.email,
                    row.title,
                    to_major_text(row.amount, project.currency),
                    to_major_text(row.shipping_fee, project.currency),
                    project.currency,
                    address.get("name", ""),
                    *(address.get(c, "") for c in ADDRESS_COLUMNS[1:]),
                    address.get("country_code", ""),
                    row.add_ons or "",
                    row.answered_at.isoformat(timespec="seconds") if row.answered_at else "",
                    *(answers.get(str(q.id), "") for q in questions),
                )
            )
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# ---- leaving -------------------------------------------------------------------------------


def erase_for_user(user_id: int) -> None:
    """A deleted account: its survey addresses and answers are gone (the row stays, marked
    erased, so the counts the creator saw still add up)."""
    db.session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.backer_id == user_id)
        .values(address=None, answers={}, erased_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()


def export_for_user(user_id: int) -> list[dict]:
    """The user's own survey answers, for "download my data"."""
    rows = db.session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.backer_id == user_id)
        .order_by(SurveyResponse.id)
    )
    return [
        {
            "survey_id": r.survey_id,
            "pledge_id": r.pledge_id,
            "answered_at": r.answered_at.isoformat() if r.answered_at else None,
            "address": r.address,
            "answers": r.answers,
        }
        for r in rows
    ]


address_lines = addresses.lines
