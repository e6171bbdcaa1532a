"""A published update's mail: one ``INSERT ... SELECT`` for all its recipients, however many.

The recipients are every backer whose pledge is held or collected and, for a public update,
every follower of the project: distinct users (a backer who also follows gets one message),
less those who turned off ``Topic.PROJECT_UPDATES``. Each row's key is
``update:<update id>:<user id>`` and inserts skip keys already there, so publishing again, or
a step resumed after a crash, sends nobody a second copy. The row's ``data`` carries the
update's id; the text is read from the update when the mail is written.
"""

from __future__ import annotations

from sqlalchemy import select, union

from app.follows.models import Follow
from app.notifications import services as notifications
from app.notifications.services import Kind
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
    notifications.to_many(
        KIND, key_prefix(update_id), recipients, project_id, {"update_id": update_id}
    )
