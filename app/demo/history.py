"""Give the demo's live projects a history: their pledges are made in one go when the demo is
seeded, so each project's pledges are then dated as if they had come in over the days since
its launch (many in the first days, a few each day after, more near the end, as campaigns
go), and its funding series is rebuilt from them. Demo data only: the platform itself never
rewrites the series."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from app.campaign.models import FundingHour
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project


def spread(project_ids: list[int], now: datetime) -> None:
    for project_id in project_ids:
        project = db.session.get(Project, project_id)
        pledges = list(
            db.session.scalars(
                select(Pledge)
                .where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.HELD)
                .order_by(Pledge.id)
            )
        )
        if not pledges or project.launched_at is None:
            continue
        rng = random.Random(project_id)  # noqa: S311 - demo data, not security
        span = (now - project.launched_at).total_seconds()
        hours: dict[datetime, list[int]] = {}
        for pledge in pledges:
            # Early-heavy: the square of a uniform draw puts most pledges near the launch.
            at = project.launched_at + timedelta(seconds=span * rng.random() ** 2)
            db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(created_at=at))
            hour = at.replace(minute=0, second=0, microsecond=0)
            into = hours.setdefault(hour, [0, 0])
            into[0] += pledge.total
            into[1] += 1
        db.session.execute(delete(FundingHour).where(FundingHour.project_id == project_id))
        db.session.add_all(
            FundingHour(
                project_id=project_id,
                hour=hour,
                pledged=pledged,
                backers=backers,
                new_pledges=backers,
                changed=0,
                cancelled=0,
            )
            for hour, (pledged, backers) in sorted(hours.items())
        )
        db.session.flush()
