"""Project rules in plain Python: the state machine, the deadline, the review checklist."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.errors import UserError

MIN_DURATION_DAYS = 1
MAX_DURATION_DAYS = 60


class ProjectStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    LIVE = "live"
    CANCELLED = "cancelled"  # by its creator while live; every backer is refunded
    SUSPENDED = "suspended"  # by a moderator while live; every backer is refunded
    SETTLING = "settling"  # claimed by settlement after the deadline
    FUNDED = "funded"
    PAID_OUT = "paid_out"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


S = ProjectStatus

# Anyone may see a project in these states; the others only its owner and moderators.
PUBLIC_STATUSES = frozenset(
    {S.LIVE, S.CANCELLED, S.SUSPENDED, S.SETTLING, S.FUNDED, S.PAID_OUT, S.FAILED}
)
ENDED_STATUSES = frozenset({S.CANCELLED, S.SUSPENDED, S.SETTLING, S.FUNDED, S.PAID_OUT, S.FAILED})
# The outcome is known: the money statement exists.
STATEMENT_STATUSES = frozenset({S.FUNDED, S.PAID_OUT, S.FAILED, S.CANCELLED, S.SUSPENDED})
FUNDED_STATUSES = frozenset({S.FUNDED, S.PAID_OUT})  # the goal was reached
EDITABLE_STATUSES = frozenset({S.DRAFT, S.LIVE})  # the creator may edit (live: some fields)


class Action(enum.StrEnum):
    SUBMIT = "submit"
    REQUEST_CHANGES = "request changes to"
    APPROVE = "approve"
    REJECT = "reject"
    LAUNCH = "launch"
    CANCEL = "cancel"
    SUSPEND = "suspend"
    CLAIM_FOR_SETTLEMENT = "settle"
    MARK_FUNDED = "mark funded"
    MARK_FAILED = "mark failed"
    MARK_PAID_OUT = "mark paid out"


# The one table of allowed transitions: action -> (states it may start from, state it ends in).
TRANSITIONS: dict[Action, tuple[frozenset[ProjectStatus], ProjectStatus]] = {
    Action.SUBMIT: (frozenset({S.DRAFT}), S.SUBMITTED),
    Action.REQUEST_CHANGES: (frozenset({S.SUBMITTED}), S.DRAFT),
    Action.APPROVE: (frozenset({S.SUBMITTED}), S.APPROVED),
    Action.REJECT: (frozenset({S.SUBMITTED}), S.REJECTED),
    Action.LAUNCH: (frozenset({S.APPROVED}), S.LIVE),
    Action.CANCEL: (frozenset({S.LIVE}), S.CANCELLED),
    Action.SUSPEND: (frozenset({S.LIVE}), S.SUSPENDED),
    Action.CLAIM_FOR_SETTLEMENT: (frozenset({S.LIVE}), S.SETTLING),
    Action.MARK_FUNDED: (frozenset({S.SETTLING}), S.FUNDED),
    Action.MARK_FAILED: (frozenset({S.SETTLING}), S.FAILED),
    Action.MARK_PAID_OUT: (frozenset({S.FUNDED}), S.PAID_OUT),
}


class IllegalTransition(UserError):
    """A state change the rules forbid; the message is fit to show the user."""


def next_status(current: ProjectStatus, action: Action) -> ProjectStatus:
    """The state ``action`` leads to from ``current``, or IllegalTransition saying why not."""
    allowed_from, target = TRANSITIONS[action]
    if current not in allowed_from:
        starts = " or ".join(sorted(s.label for s in allowed_from))
        article = "an" if starts[0] in "aeiou" else "a"
        raise IllegalTransition(
            f"You cannot {action.value} this project: it is {current.label}, "
            f"and only {article} {starts} project can be."
        )
    return target


def deadline_for(launched_at: datetime, duration_days: int) -> datetime:
    """The exact UTC moment a project launched at ``launched_at`` stops taking pledges."""
    if launched_at.tzinfo is None:
        raise ValueError("launch time must be an aware datetime")
    if not MIN_DURATION_DAYS <= duration_days <= MAX_DURATION_DAYS:
        raise ValueError(f"duration must be {MIN_DURATION_DAYS} to {MAX_DURATION_DAYS} days")
    return launched_at + timedelta(days=duration_days)


@dataclass(frozen=True)
class DraftFacts:
    """What the review checklist looks at, independent of how it is stored."""

    title: str
    blurb: str
    story: str
    category_id: int | None
    goal: int
    duration_days: int
    has_cover: bool
    tier_count: int


def missing_for_submission(facts: DraftFacts) -> list[str]:
    """What a draft still lacks before it can be submitted for review; empty when complete."""
    missing = []
    if not facts.title.strip():
        missing.append("a title")
    if not facts.blurb.strip():
        missing.append("a short blurb")
    if len(facts.story.strip()) < 100:
        missing.append("a story of at least 100 characters")
    if facts.category_id is None:
        missing.append("a category")
    if facts.goal <= 0:
        missing.append("a goal")
    if not MIN_DURATION_DAYS <= facts.duration_days <= MAX_DURATION_DAYS:
        missing.append("a duration of 1 to 60 days")
    if not facts.has_cover:
        missing.append("a cover image")
    if facts.tier_count < 1:
        missing.append("at least one reward tier")
    return missing
