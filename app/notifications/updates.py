"""A published update's mail: one ``INSERT ... SELECT`` for all its recipients, however many.

The recipients are every backer whose pledge is held or collected and, for a public update,
every follower of the project: distinct users (a backer who also follows gets one message),
less those who turned off ``Topic.PROJECT_UPDATES``. Each row's key is
``update:<update id>:<user id>`` and inserts skip keys already there, so publishing again, or
a step resumed after a crash, sends nobody a second copy. The row's ``data`` carries the
update's id; the text is read from the update when the mail is written.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Integer, String, cast, literal, null, select, union

from app.accounts.models import User
from app.extensions import db
from app.follows.models import Follow
from app.notifications import preferences
from app.notifications.models import Outbox
from app.notifications.services import COLUMNS, Kind, _constants, _insert_statement
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge

KIND = Kind.UPDATE_PUBLISHED
BACKING = (PledgeStatus.HELD, PledgeStatus.COLLECTED)


def key_prefix(update_id: int) -> str:
    return f"update:{update_id}:"


def update_published(update_id: int, project_id: int, public: bool) -> None:
    """Write the update's messages: one statement, whatever the number of recipients."""
    backers = select(Pledge.backer_id.label("user_id")).where(
        Pledge.project_id == project_id, Pledge.status.in_(BACKING)
    )
    if public:
        followers = select(Follow.user_id.label("user_id")).where(Follow.project_id == project_id)
        recipients = union(backers, followers).subquery()  # UNION: each user once
    else:
        recipients = backers.distinct().subquery()
    k, status, attempts, next_at, created = _constants(KIND)
    rows = (
        select(
            literal(key_prefix(update_id), String) + cast(User.id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            literal(project_id),
            cast(null(), Integer),
            cast(null(), BigInteger),
            cast(null(), String),
            status,
            attempts,
            next_at,
            created,
            literal({"update_id": update_id}, JSON),
        )
        .join(recipients, recipients.c.user_id == User.id)
        .where(User.id.not_in(preferences.opted_out(preferences.Topic.PROJECT_UPDATES)))
    )
    stmt = _insert_statement(Outbox.__table__).from_select((*COLUMNS, "data"), rows)
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    db.session.flush()
