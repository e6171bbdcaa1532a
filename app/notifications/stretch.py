"""A reached stretch goal's mail: one ``INSERT ... SELECT`` to every backer of the project.

The recipients are the distinct users whose pledge is held or collected when the goal is
reached, less those who turned off ``Topic.PROJECT_UPDATES`` (it is news from a project they
back, like an update). Each row's key is ``stretch:<goal id>:<user id>`` and inserts skip keys
already there, so a goal announced again sends nobody a second copy. The row carries the
goal's amount and the project's currency; its ``data`` names the goal, whose title and
description are read when the mail is written.
"""

from __future__ import annotations

from sqlalchemy import JSON, Integer, String, cast, literal, null, select

from app.accounts.models import User
from app.extensions import db
from app.notifications import preferences
from app.notifications.models import Outbox
from app.notifications.services import COLUMNS, Kind, _constants, _insert_statement
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.stretch.models import StretchGoal

KIND = Kind.STRETCH_GOAL_REACHED
BACKING = (PledgeStatus.HELD, PledgeStatus.COLLECTED)


def key_prefix(goal_id: int) -> str:
    return f"stretch:{goal_id}:"


def stretch_goal_reached(goal_id: int, project_id: int) -> None:
    """Write the goal's messages: one statement, whatever the number of backers."""
    goal = db.session.get(StretchGoal, goal_id)
    currency = db.session.scalar(
        select(Pledge.currency).where(Pledge.project_id == project_id).limit(1)
    )
    backers = (
        select(Pledge.backer_id.label("user_id"))
        .where(Pledge.project_id == project_id, Pledge.status.in_(BACKING))
        .distinct()
        .subquery()
    )
    k, status, attempts, next_at, created = _constants(KIND)
    rows = (
        select(
            literal(key_prefix(goal_id), String) + cast(User.id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            literal(project_id),
            cast(null(), Integer),
            literal(goal.amount),
            literal(currency, String),
            status,
            attempts,
            next_at,
            created,
            literal({"stretch_goal_id": goal_id}, JSON),
        )
        .join(backers, backers.c.user_id == User.id)
        .where(User.id.not_in(preferences.opted_out(preferences.Topic.PROJECT_UPDATES)))
    )
    stmt = _insert_statement(Outbox.__table__).from_select((*COLUMNS, "data"), rows)
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    db.session.flush()
