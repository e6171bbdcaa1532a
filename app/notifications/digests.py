"""The creators' daily digests (new backers here, new comments in ``comments.py``), for
creators who have not turned them off.

A digest covers the news (new backers: the pledges held, their money in escrow) from the end
of the creator's last digest of that kind to the last midnight in SITE_TIMEZONE; the first
covers the day before, and none looks back more than LOOKBACK. One is written per creator,
kind and day only if there was news, and only once: the period is recorded in
``mail_digests``, unique per user, kind and end, and the row is inserted with ``ON CONFLICT
DO NOTHING``; the loser of two scheduler runs at once inserts nothing and writes no message.
Flushes, never commits (the scheduler job commits).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Row, Select, func, select

from app.extensions import db
from app.notifications import preferences
from app.notifications import services as notifications
from app.notifications.models import MailDigest
from app.notifications.services import Kind
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project

KIND = Kind.NEW_BACKERS_DIGEST_CREATOR
TOPIC = preferences.Topic.NEW_BACKERS_DIGEST
LOOKBACK = timedelta(days=7)


def period_end(now: datetime) -> datetime:
    """The last midnight before ``now`` in the site's time zone, as an aware UTC moment."""
    zone = ZoneInfo(current_app.config["SITE_TIMEZONE"])
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date(), time(0), tzinfo=zone)
    return midnight.astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class Digest:
    """A kind of daily digest: who has news in a period, and what one owner's mail says.

    ``owners(start, end)`` selects the user ids with news in [start, end) (those who turned
    the topic off already left out); ``lines(owner_id, start, end)`` returns that owner's
    news, one row per project (none: no mail); ``data(lines)`` is what the mail is written from.
    """

    kind: Kind
    topic: preferences.Topic
    owners: Callable[[datetime, datetime], Select]
    lines: Callable[[int, datetime, datetime], Sequence[Row]]
    data: Callable[[Sequence[Row]], dict]


def write_due_of(digest: Digest, now: datetime) -> int:
    """Write the digests of one kind due at ``now``; how many were written."""
    end = period_end(now)
    floor = end - LOOKBACK
    owners = db.session.scalars(digest.owners(floor, end).distinct()).all()
    if not owners:
        return 0
    last = dict(
        db.session.execute(
            select(MailDigest.user_id, func.max(MailDigest.period_end))
            .where(MailDigest.kind == digest.kind.value, MailDigest.user_id.in_(owners))
            .group_by(MailDigest.user_id)
        ).all()
    )
    written = 0
    for owner_id in sorted(owners):
        start = max(last.get(owner_id) or end - timedelta(days=1), floor)
        if start < end and _write_one(digest, owner_id, start, end):
            written += 1
    return written


def _write_one(digest: Digest, owner_id: int, start: datetime, end: datetime) -> bool:
    lines = digest.lines(owner_id, start, end)
    if not lines:
        return False
    digest_id = db.session.scalar(
        notifications._insert_statement(MailDigest.__table__)
        .values(user_id=owner_id, kind=digest.kind.value, period_start=start, period_end=end)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "period_end"])
        .returning(MailDigest.id)
    )
    if digest_id is None:  # another run wrote this period's digest first
        return False
    notifications.to_user(
        digest.kind,
        f"{digest.kind.value}:{digest_id}",
        owner_id,
        data={"start": start.isoformat(), "end": end.isoformat(), **digest.data(lines)},
    )
    return True


# The new-backers digest: pledges held (money in escrow) in the period.


def _backers_owners(start: datetime, end: datetime) -> Select:
    return (
        select(Project.owner_id)
        .join(Pledge, Pledge.project_id == Project.id)
        .where(
            Pledge.status == PledgeStatus.HELD,
            Pledge.held_at >= start,
            Pledge.held_at < end,
            Project.owner_id.not_in(preferences.opted_out(TOPIC)),
        )
    )


def _backers_lines(owner_id: int, start: datetime, end: datetime) -> Sequence[Row]:
    return db.session.execute(
        select(
            Project.id,
            Project.title,
            Project.currency,
            func.count(Pledge.id).label("backers"),
            func.sum(Pledge.total).label("amount"),
        )
        .join(Pledge, Pledge.project_id == Project.id)
        .where(
            Project.owner_id == owner_id,
            Pledge.status == PledgeStatus.HELD,
            Pledge.held_at >= start,
            Pledge.held_at < end,
        )
        .group_by(Project.id, Project.title, Project.currency)
        .order_by(Project.id)
    ).all()


def _backers_data(lines: Sequence[Row]) -> dict:
    return {
        "backers": sum(line.backers for line in lines),
        "projects": [
            {
                "id": line.id,
                "title": line.title,
                "currency": line.currency,
                "backers": line.backers,
                "amount": int(line.amount),
            }
            for line in lines
        ],
    }


NEW_BACKERS = Digest(KIND, TOPIC, _backers_owners, _backers_lines, _backers_data)


def write_due(now: datetime) -> int:
    """Write the new-backers digests due at ``now``; how many were written."""
    return write_due_of(NEW_BACKERS, now)
