"""Stretch goal operations, the ladder the project page shows, and reaching a goal once.

The creator adds, edits and removes goals while the project is a draft or live. A goal is
above the project's goal and above what is pledged so far (one at or below the total would
be reached with no pledge to announce it), and its amount is unique in the project. A goal
once reached keeps its amount and cannot be removed: its backers were told.

Reaching: every pledge held or changed (the domain events) runs one conditional UPDATE that
stamps ``reached_at`` on the project's goals at or below its pledged total that have none
(``... WHERE reached_at IS NULL``), and publishes ``StretchGoalReached`` for the rows it
stamped. Two pledges landing at once stamp a goal once: the second UPDATE waits for the
first's row lock (PostgreSQL) or the database's write lock (SQLite) and then finds the
column set. The mail to the backers is written by app/notifications, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, exists, select, update

from app import clock, events
from app.errors import UserError
from app.extensions import db
from app.i18n import web as i18n_web
from app.money import format_money
from app.pledges.models import Pledge
from app.projects.domain import EDITABLE_STATUSES
from app.projects.models import Project
from app.stretch.models import StretchGoal

FIELDS = ("amount", "title", "description")


class StretchGoalError(UserError):
    """A stretch goal operation refused; the message is fit to show the user."""


def _money(amount: int, currency: str) -> str:
    return format_money(amount, currency, locale=i18n_web.current())


def _take_project(project_id: int) -> Project:
    """The project row, locked as pledges lock it (PostgreSQL), then read again: its pledged
    total is current and no pledge moves it until this transaction ends."""
    db.session.execute(
        select(Project.id).where(Project.id == project_id).with_for_update(key_share=True)
    )
    project = db.session.get(Project, project_id)
    db.session.refresh(project)
    return project


def _check_open(project: Project) -> None:
    if project.status not in EDITABLE_STATUSES:
        raise StretchGoalError(
            gettext(
                "Stretch goals cannot change while the project is %(status)s.",
                status=project.status.label,
            )
        )


def _check_amount(project: Project, amount: int, goal_id: int | None = None) -> None:
    if amount <= project.goal_amount:
        raise StretchGoalError(
            gettext(
                "A stretch goal must be above the project's goal of %(goal)s.",
                goal=_money(project.goal_amount, project.currency),
            )
        )
    if amount <= project.pledged_amount:
        raise StretchGoalError(
            gettext(
                "A stretch goal must be above what is pledged so far (%(total)s).",
                total=_money(project.pledged_amount, project.currency),
            )
        )
    taken = db.session.scalar(
        select(
            exists().where(
                StretchGoal.project_id == project.id,
                StretchGoal.amount == amount,
                StretchGoal.id != (goal_id or 0),
            )
        )
    )
    if taken:
        raise StretchGoalError(
            gettext(
                "There is already a stretch goal at %(amount)s.",
                amount=_money(amount, project.currency),
            )
        )


def of_project(project_id: int) -> list[StretchGoal]:
    return list(
        db.session.scalars(
            select(StretchGoal)
            .where(StretchGoal.project_id == project_id)
            .order_by(StretchGoal.amount, StretchGoal.id)
        )
    )


def add_goal(project: Project, values: dict[str, Any]) -> StretchGoal:
    project = _take_project(project.id)
    _check_open(project)
    _check_amount(project, values["amount"])
    goal = StretchGoal(project_id=project.id, **{k: values[k] for k in FIELDS})
    db.session.add(goal)
    db.session.flush()
    return goal


def update_goal(goal: StretchGoal, values: dict[str, Any]) -> None:
    project = _take_project(goal.project_id)
    _check_open(project)
    db.session.refresh(goal)
    moves = values["amount"] != goal.amount
    if moves and goal.is_reached:
        raise StretchGoalError(gettext("This stretch goal was reached: its amount cannot change."))
    if moves:
        _check_amount(project, values["amount"], goal.id)
    conditions = [StretchGoal.id == goal.id]
    if moves:  # only while nobody reached it since it was read
        conditions.append(StretchGoal.reached_at.is_(None))
    result = db.session.execute(
        update(StretchGoal)
        .where(*conditions)
        .values(**{k: values[k] for k in FIELDS})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StretchGoalError(gettext("This stretch goal was reached: its amount cannot change."))
    db.session.expire(goal)


def delete_goal(goal: StretchGoal) -> None:
    project = _take_project(goal.project_id)
    _check_open(project)
    result = db.session.execute(
        delete(StretchGoal)
        .where(StretchGoal.id == goal.id, StretchGoal.reached_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StretchGoalError(gettext("This stretch goal was reached and cannot be removed."))
    db.session.expunge(goal)


# ---- the ladder ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    goal: StretchGoal
    reached: bool  # reached once, or at or below the total now
    to_go: int | None  # on the next goal to reach: what is still missing


@dataclass(frozen=True)
class Ladder:
    rungs: list[Rung]
    currency: str

    @property
    def next(self) -> Rung | None:
        return next((r for r in self.rungs if r.to_go is not None), None)


def ladder(project: Project) -> Ladder:
    """The project's goals by amount, the reached ones marked, the next one with its gap."""
    rungs: list[Rung] = []
    gap_given = False
    for goal in of_project(project.id):
        reached = goal.is_reached or goal.amount <= project.pledged_amount
        to_go = None
        if not reached and not gap_given:
            to_go, gap_given = goal.amount - project.pledged_amount, True
        rungs.append(Rung(goal, reached, to_go))
    return Ladder(rungs, project.currency)


# ---- reaching ---------------------------------------------------------------------------------


def reach(project_id: int) -> list[int]:
    """Stamp the goals the pledged total now passes, once each; announce those this call
    stamped. Returns their ids."""
    total = select(Project.pledged_amount).where(Project.id == project_id).scalar_subquery()
    stamped = db.session.scalars(
        update(StretchGoal)
        .where(
            StretchGoal.project_id == project_id,
            StretchGoal.reached_at.is_(None),
            StretchGoal.amount <= total,
        )
        .values(reached_at=clock.now())
        .returning(StretchGoal.id)
        .execution_options(synchronize_session=False)
    ).all()
    for goal_id in sorted(stamped):
        events.publish(events.StretchGoalReached(goal_id, project_id))
    return list(stamped)


def _project_of_pledge(pledge_id: int) -> int:
    return db.session.scalar(select(Pledge.project_id).where(Pledge.id == pledge_id))


def pledge_held(event: events.PledgeHeld) -> None:
    reach(_project_of_pledge(event.pledge_id))


def pledge_changed(event: events.PledgeChanged) -> None:
    if event.after > event.before:
        reach(_project_of_pledge(event.pledge_id))


def register() -> None:
    events.subscribe(events.PledgeHeld, pledge_held)
    events.subscribe(events.PledgeChanged, pledge_changed)
