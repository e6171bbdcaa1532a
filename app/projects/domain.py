"""Project rules in plain Python: the state machine, the deadline, the review checklist."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.errors import UserError
from app.i18n import N_, gettext

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
        """The state's name in the reader's language: "paid out", "已打款"."""
        return gettext(STATUS_LABELS[self])


S = ProjectStatus

STATUS_LABELS = {
    S.DRAFT: N_("draft"),
    S.SUBMITTED: N_("submitted"),
    S.APPROVED: N_("approved"),
    S.REJECTED: N_("rejected"),
    S.LIVE: N_("live"),
    S.CANCELLED: N_("cancelled"),
    S.SUSPENDED: N_("suspended"),
    S.SETTLING: N_("settling"),
    S.FUNDED: N_("funded"),
    S.PAID_OUT: N_("paid out"),
    S.FAILED: N_("failed"),
}

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
        english = " or ".join(sorted(STATUS_LABELS[s] for s in allowed_from))
        starts = gettext(" or ").join(sorted(s.label for s in allowed_from))
        allowed = (
            gettext("an %(status)s project", status=starts)
            if english[0] in "aeiou"
            else gettext("a %(status)s project", status=starts)
        )
        raise IllegalTransition(
            gettext(
                "You cannot %(action)s this project: it is %(status)s, and only %(allowed)s "
                "can be.",
                action=gettext(ACTION_VERBS[action]),
                status=current.label,
                allowed=allowed,
            )
        )
    return target


# The verb of each action, for the message above ("submit", "提交").
ACTION_VERBS = {
    Action.SUBMIT: N_("submit"),
    Action.REQUEST_CHANGES: N_("request changes to"),
    Action.APPROVE: N_("approve"),
    Action.REJECT: N_("reject"),
    Action.LAUNCH: N_("launch"),
    Action.CANCEL: N_("cancel"),
    Action.SUSPEND: N_("suspend"),
    Action.CLAIM_FOR_SETTLEMENT: N_("settle"),
    Action.MARK_FUNDED: N_("mark funded"),
    Action.MARK_FAILED: N_("mark failed"),
    Action.MARK_PAID_OUT: N_("mark paid out"),
}


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
        missing.append(gettext("a title"))
    if not facts.blurb.strip():
        missing.append(gettext("a short blurb"))
    if len(facts.story.strip()) < 100:
        missing.append(gettext("a story of at least 100 characters"))
    if facts.category_id is None:
        missing.append(gettext("a category"))
    if facts.goal <= 0:
        missing.append(gettext("a goal"))
    if not MIN_DURATION_DAYS <= facts.duration_days <= MAX_DURATION_DAYS:
        missing.append(gettext("a duration of 1 to 60 days"))
    if not facts.has_cover:
        missing.append(gettext("a cover image"))
    if facts.tier_count < 1:
        missing.append(gettext("at least one reward tier"))
    return missing
