"""The two mails of a follow ("Remind me"): one when the project launches, one shortly before
its deadline (FOLLOW_REMINDER_HOURS) to followers who have not backed it.

Both are set-based, whatever the number of followers: the follows are first claimed with one
conditional ``UPDATE`` (``launch_mailed_at`` / ``reminder_mailed_at`` set where still empty),
then their messages written with one ``INSERT ... SELECT`` of the follows this run claimed,
keyed per project and follower (``ON CONFLICT DO NOTHING``). On PostgreSQL a second run at the
same time waits on the claimed rows and then finds them taken; on SQLite writers take turns.
A crash rolls back the claim with the messages, so the next run writes them. Followers who
turned the topic off are neither claimed nor mailed. Flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    cast,
    exists,
    literal,
    null,
    select,
    update,
)

from app import events
from app.accounts.models import User
from app.extensions import db
from app.follows.models import Follow
from app.notifications import preferences
from app.notifications.models import Outbox
from app.notifications.services import COLUMNS, Kind, _constants, _insert_statement
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project

TOPIC = preferences.Topic.FOLLOWED_PROJECTS
# A follower with a pledge in one of these has backed the project: no reminder to back it.
BACKED = (PledgeStatus.PENDING, PledgeStatus.HELD)


def _hours() -> int:
    return current_app.config["FOLLOW_REMINDER_HOURS"]


def _write(kind: Kind, stamp_column, stamp: datetime, projects) -> None:
    """Messages to the follows of ``projects`` (ids, or a query of them) stamped ``stamp``."""
    k, status, attempts, next_at, created = _constants(kind)
    rows = (
        select(
            literal(f"{kind.value}:", String)
            + cast(Follow.project_id, String)
            + literal(":", String)
            + cast(Follow.user_id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            Follow.project_id,
            cast(null(), Integer),
            cast(Project.goal_amount, BigInteger),
            Project.currency,
            status,
            attempts,
            next_at,
            created,
            literal({"hours": _hours()}, JSON),
        )
        .join(User, User.id == Follow.user_id)
        .join(Project, Project.id == Follow.project_id)
        .where(stamp_column == stamp, Follow.project_id.in_(projects), User.deleted_at.is_(None))
    )
    db.session.execute(
        _insert_statement(Outbox.__table__)
        .from_select((*COLUMNS, "data"), rows)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    db.session.flush()


def _claim(stamp_column, stamp: datetime, projects, *conditions) -> None:
    db.session.execute(
        update(Follow)
        .where(
            stamp_column.is_(None),
            Follow.project_id.in_(projects),
            Follow.user_id.not_in(preferences.opted_out(TOPIC)),
            *conditions,
        )
        .values({stamp_column.key: stamp})
        .execution_options(synchronize_session=False)
    )


def project_launched(event: events.ProjectLaunched) -> None:
    """To every follower of the project, in the launch's transaction: "<title> is live"."""
    project = db.session.get(Project, event.project_id)
    stamp = project.launched_at
    ids = [project.id]
    _claim(Follow.launch_mailed_at, stamp, ids)
    _write(Kind.FOLLOWED_LAUNCHED, Follow.launch_mailed_at, stamp, ids)


def due_projects(now: datetime):
    """Live projects whose deadline is within the lead time, launched before that window
    opened (a campaign that short: its launch mail already said when it ends)."""
    hours = _hours()
    return select(Project.id).where(
        Project.status == ProjectStatus.LIVE,
        Project.deadline > now,
        Project.deadline <= now + timedelta(hours=hours),
        Project.duration_days * 24 > hours,
    )


def write_due(now: datetime) -> None:
    """The scheduler's run: "48 hours left" to each follower of a due project who has not
    backed it, once."""
    projects = due_projects(now)
    backed = exists().where(
        Pledge.project_id == Follow.project_id,
        Pledge.backer_id == Follow.user_id,
        Pledge.status.in_(BACKED),
    )
    _claim(Follow.reminder_mailed_at, now, projects, ~backed)
    _write(Kind.FOLLOWED_ENDING, Follow.reminder_mailed_at, now, projects)
