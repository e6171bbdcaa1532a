"""The survey's rules as plain Python: its states and moves, and which questions a tier is
asked. No Flask, no SQLAlchemy."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta

from app.i18n import N_, gettext


class SurveyStatus(enum.StrEnum):
    DRAFT = "draft"  # the creator builds it; nobody is asked yet
    SENT = "sent"  # backers are mailed and answer, and may change their answers
    LOCKED = "locked"  # answers are final (read-only)

    @property
    def label(self) -> str:
        return gettext(STATUS_LABELS[self])


STATUS_LABELS = {
    SurveyStatus.DRAFT: N_("draft"),
    SurveyStatus.SENT: N_("sent"),
    SurveyStatus.LOCKED: N_("locked"),
}

TRANSITIONS = {
    SurveyStatus.DRAFT: frozenset({SurveyStatus.SENT}),
    SurveyStatus.SENT: frozenset({SurveyStatus.LOCKED}),
    SurveyStatus.LOCKED: frozenset(),
}


class QuestionKind(enum.StrEnum):
    LINE = "line"  # one line of text
    LONG = "long"  # a paragraph
    CHOICE = "choice"  # one of 2-10 options


KIND_LABELS = {
    QuestionKind.LINE: N_("Text, one line"),
    QuestionKind.LONG: N_("Text, a paragraph"),
    QuestionKind.CHOICE: N_("One choice of several"),
}

MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_QUESTIONS = 30
# Reminders to backers who have not answered: how long after the survey was sent.
REMINDER_DAYS = (2, 7)


class SurveyMoveRefused(Exception):
    """A move the table does not allow; the message is a catalogue entry."""


def check_move(current: SurveyStatus, to: SurveyStatus) -> None:
    if to not in TRANSITIONS[current]:
        raise SurveyMoveRefused(
            MOVE_REFUSALS.get((current, to), N_("This survey cannot do that now."))
        )


MOVE_REFUSALS = {
    (SurveyStatus.SENT, SurveyStatus.SENT): N_("This survey was already sent."),
    (SurveyStatus.LOCKED, SurveyStatus.SENT): N_("This survey was already sent."),
    (SurveyStatus.DRAFT, SurveyStatus.LOCKED): N_("Send the survey before locking its answers."),
    (SurveyStatus.LOCKED, SurveyStatus.LOCKED): N_("The answers are already locked."),
}


def asks_tier(tier_ids: Iterable[int], tier_id: int) -> bool:
    """A question for chosen tiers (a non-empty list) is asked of those tiers' backers only."""
    chosen = list(tier_ids)
    return not chosen or tier_id in chosen


def reminder_due(sent_at: datetime, days: int, now: datetime) -> bool:
    return now >= sent_at + timedelta(days=days)
