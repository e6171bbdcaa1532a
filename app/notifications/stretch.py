"""A reached stretch goal's mail: one ``INSERT ... SELECT`` to every backer of the project.

The recipients are the distinct users whose pledge is held or collected when the goal is
reached, less those who turned off ``Topic.PROJECT_UPDATES`` (it is news from a project they
back, like an update). Each row's key is ``stretch:<goal id>:<user id>`` and inserts skip keys
already there, so a goal announced again sends nobody a second copy. The row carries the
goal's amount and the project's currency; its ``data`` names the goal, whose title and
description are read when the mail is written.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.notifications import services as notifications
from app.notifications.services import Kind
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from app.stretch.models import StretchGoal

KIND = Kind.STRETCH_GOAL_REACHED
BACKING = (PledgeStatus.HELD, PledgeStatus.COLLECTED)


def key_prefix(goal_id: int) -> str:
    return f"stretch:{goal_id}:"


def stretch_goal_reached(goal_id: int, project_id: int) -> None:
    """Write the goal's messages: one statement, whatever the number of backers."""
    goal = db.session.get(StretchGoal, goal_id)
    currency = db.session.scalar(select(Project.currency).where(Project.id == project_id))
    backers = (
        select(Pledge.backer_id.label("user_id"))
        .where(Pledge.project_id == project_id, Pledge.status.in_(BACKING))
        .distinct()
        .subquery()
    )
    notifications.to_many(
        KIND,
        key_prefix(goal_id),
        backers,
        project_id,
        {"stretch_goal_id": goal_id},
        amount=goal.amount,
        currency=currency,
    )
