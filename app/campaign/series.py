"""Keeping the funding series, and reading it back as a running total.

The series moves exactly where a project's pledged total moves: a held pledge adds its total
and a backer, a change adds the difference, a cancellation takes the pledge's total and a
backer away (refunds at settlement do not change what was pledged). Each event adds to its
hour's row with one upsert (``INSERT ... ON CONFLICT DO UPDATE`` adding the deltas), in the
transaction that moved the total, so the series is kept or rolled back with it and never
recomputed from the pledges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app import clock, events
from app.campaign.models import FundingHour
from app.extensions import db
from app.pledges.models import Pledge

COUNTS = ("pledged", "backers", "new_pledges", "changed", "cancelled")


def add(project_id: int, at: datetime, **deltas: int) -> None:
    """Add ``deltas`` (some of COUNTS) to the project's row for the hour of ``at``."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    values = {name: deltas.get(name, 0) for name in COUNTS}
    table = FundingHour.__table__
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(table).values(project_id=project_id, hour=hour, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "hour"],
        set_={name: table.c[name] + stmt.excluded[name] for name in COUNTS},
    )
    db.session.execute(stmt)


def pledge_held(event: events.PledgeHeld) -> None:
    pledge = db.session.get(Pledge, event.pledge_id)
    add(pledge.project_id, clock.now(), pledged=pledge.total, backers=1, new_pledges=1)


def pledge_changed(event: events.PledgeChanged) -> None:
    pledge = db.session.get(Pledge, event.pledge_id)
    add(pledge.project_id, clock.now(), pledged=event.after - event.before, changed=1)


def pledge_cancelled(event: events.PledgeCancelled) -> None:
    pledge = db.session.get(Pledge, event.pledge_id)
    add(pledge.project_id, clock.now(), pledged=-pledge.total, backers=-1, cancelled=1)


def register() -> None:
    events.subscribe(events.PledgeHeld, pledge_held)
    events.subscribe(events.PledgeChanged, pledge_changed)
    events.subscribe(events.PledgeCancelled, pledge_cancelled)


@dataclass(frozen=True)
class Point:
    """One step of the series: the period starting at ``start`` and the totals at its end."""

    start: datetime
    pledged: int  # that period's net change
    total: int  # pledged so far, at the end of the period
    backers: int  # backers so far
    new_pledges: int
    changed: int
    cancelled: int


def points(project_id: int, daily: bool) -> list[Point]:
    """The project's series by hour, or by UTC day with ``daily``: only periods in which
    something happened, with running totals."""
    rows = db.session.execute(
        select(FundingHour.hour, *(getattr(FundingHour, name) for name in COUNTS))
        .where(FundingHour.project_id == project_id)
        .order_by(FundingHour.hour)
    ).all()
    periods: dict[datetime, list[int]] = {}
    for hour, *counts in rows:
        start = hour.replace(minute=0, second=0, microsecond=0)
        if daily:
            start = start.replace(hour=0)
        into = periods.setdefault(start, [0] * len(COUNTS))
        for i, value in enumerate(counts):
            into[i] += value
    out: list[Point] = []
    total = backers = 0
    for start, (pledged, backer_delta, new, changed, cancelled) in periods.items():
        total += pledged
        backers += backer_delta
        out.append(Point(start, pledged, total, backers, new, changed, cancelled))
    return out


def daily_if_long(start: datetime | None, end: datetime | None) -> bool:
    """Days for a campaign of more than three days, hours for a shorter one."""
    return start is not None and end is not None and end - start > timedelta(days=3)


def sums(project_ids: Sequence[int] | None = None) -> dict[int, tuple[int, int]]:
    """Each project's series summed: (pledged, backers), which equal its shown totals."""
    stmt = select(
        FundingHour.project_id, func.sum(FundingHour.pledged), func.sum(FundingHour.backers)
    ).group_by(FundingHour.project_id)
    if project_ids is not None:
        stmt = stmt.where(FundingHour.project_id.in_(project_ids))
    return {pid: (int(p), int(b)) for pid, p, b in db.session.execute(stmt)}
