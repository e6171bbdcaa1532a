"""The project state machine, as plain Python: every allowed move, and a clear no for the rest."""

from datetime import UTC, datetime, timedelta

import pytest

from app.projects.domain import (
    TRANSITIONS,
    Action,
    DraftFacts,
    IllegalTransition,
    ProjectStatus,
    deadline_for,
    missing_for_submission,
    next_status,
)

S = ProjectStatus

ALLOWED = [
    (S.DRAFT, Action.SUBMIT, S.SUBMITTED),
    (S.SUBMITTED, Action.REQUEST_CHANGES, S.DRAFT),
    (S.SUBMITTED, Action.APPROVE, S.APPROVED),
    (S.SUBMITTED, Action.REJECT, S.REJECTED),
    (S.APPROVED, Action.LAUNCH, S.LIVE),
    (S.LIVE, Action.CANCEL, S.CANCELLED),
    (S.LIVE, Action.SUSPEND, S.SUSPENDED),
    (S.LIVE, Action.CLAIM_FOR_SETTLEMENT, S.SETTLING),
    (S.SETTLING, Action.MARK_FUNDED, S.FUNDED),
    (S.SETTLING, Action.MARK_FAILED, S.FAILED),
    (S.FUNDED, Action.MARK_PAID_OUT, S.PAID_OUT),
]


@pytest.mark.parametrize(("start", "action", "end"), ALLOWED)
def test_allowed_transitions(start, action, end):
    assert next_status(start, action) is end


def test_the_table_holds_exactly_the_documented_transitions():
    table = {(s, a, to) for a, (starts, to) in TRANSITIONS.items() for s in starts}
    assert table == set(ALLOWED)


FORBIDDEN = [
    (start, action)
    for action in Action
    for start in ProjectStatus
    if (start, action) not in {(s, a) for s, a, _ in ALLOWED}
]


@pytest.mark.parametrize(("start", "action"), FORBIDDEN)
def test_every_other_transition_is_refused_with_a_message(start, action):
    with pytest.raises(IllegalTransition) as error:
        next_status(start, action)
    message = str(error.value)
    assert message.startswith(f"You cannot {action.value} this project: it is {start.label}")


def test_messages_read_well():
    with pytest.raises(
        IllegalTransition,
        match=r"You cannot launch this project: it is draft, and only an approved project can be\.",
    ):
        next_status(S.DRAFT, Action.LAUNCH)


def test_deadline_is_launch_plus_duration_in_utc():
    launched = datetime(2026, 3, 28, 22, 30, 15, tzinfo=UTC)
    assert deadline_for(launched, 2) == datetime(2026, 3, 30, 22, 30, 15, tzinfo=UTC)
    assert deadline_for(launched, 60) - launched == timedelta(days=60)


@pytest.mark.parametrize("days", [0, 61, -1])
def test_deadline_refuses_durations_out_of_range(days):
    with pytest.raises(ValueError, match="1 to 60 days"):
        deadline_for(datetime(2026, 1, 1, tzinfo=UTC), days)


def test_deadline_refuses_naive_times():
    with pytest.raises(ValueError, match="aware"):
        deadline_for(datetime(2026, 1, 1), 10)


COMPLETE = DraftFacts(
    title="Lamp",
    blurb="A lamp.",
    story="x" * 100,
    category_id=1,
    goal=100,
    duration_days=30,
    has_cover=True,
    tier_count=1,
)


def test_complete_draft_needs_nothing():
    assert missing_for_submission(COMPLETE) == []


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"title": " "}, "a title"),
        ({"blurb": ""}, "a short blurb"),
        ({"story": "x" * 99}, "a story of at least 100 characters"),
        ({"category_id": None}, "a category"),
        ({"goal": 0}, "a goal"),
        ({"duration_days": 61}, "a duration of 1 to 60 days"),
        ({"has_cover": False}, "a cover image"),
        ({"tier_count": 0}, "at least one reward tier"),
    ],
)
def test_checklist_names_what_is_missing(change, missing):
    from dataclasses import replace

    assert missing_for_submission(replace(COMPLETE, **change)) == [missing]
