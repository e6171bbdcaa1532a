"""The creator's dashboard figures: the totals the project keeps, the funding series, and one
grouped query for the tiers (none of it adds up all pledges' history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.campaign import series
from app.campaign.models import FundingHour
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards.models import RewardTier

# The pledges a tier's backers hold: in escrow, or in the payout.
COUNTED = (PledgeStatus.HELD, PledgeStatus.COLLECTED)
# Projects with a funding history: launched at some point.
LAUNCHED = (
    ProjectStatus.LIVE,
    ProjectStatus.SETTLING,
    ProjectStatus.FUNDED,
    ProjectStatus.PAID_OUT,
    ProjectStatus.FAILED,
    ProjectStatus.CANCELLED,
    ProjectStatus.SUSPENDED,
)


@dataclass(frozen=True)
class TierLine:
    tier: RewardTier
    backers: int
    amount: int


@dataclass(frozen=True)
class Today:
    """Since midnight in the creator's time zone."""

    pledged: int
    new_backers: int
    changed: int
    cancelled: int


@dataclass(frozen=True)
class Dashboard:
    pledged: int
    backers: int
    average: int  # minor units, rounded down
    today: Today
    changed: int  # every change and cancellation since launch
    cancelled: int
    tiers: list[TierLine]
    points: list[series.Point]
    daily: bool
    days_running: int

    @property
    def per_day(self) -> int:
        """Pledged per day of campaign so far (whole days, at least one), rounded down."""
        return self.pledged // max(self.days_running, 1)


def has_history(project: Project) -> bool:
    return project.status in LAUNCHED and project.launched_at is not None


def dashboard(project: Project, now: datetime) -> Dashboard:
    zone = ZoneInfo(project.creator_timezone or "UTC")
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    today = db.session.execute(
        select(
            func.coalesce(func.sum(FundingHour.pledged), 0),
            func.coalesce(func.sum(FundingHour.new_pledges), 0),
            func.coalesce(func.sum(FundingHour.changed), 0),
            func.coalesce(func.sum(FundingHour.cancelled), 0),
        ).where(FundingHour.project_id == project.id, FundingHour.hour >= midnight)
    ).one()
    ever = db.session.execute(
        select(
            func.coalesce(func.sum(FundingHour.changed), 0),
            func.coalesce(func.sum(FundingHour.cancelled), 0),
        ).where(FundingHour.project_id == project.id)
    ).one()
    daily = series.daily_if_long(project.launched_at, project.deadline)
    end = min(now, project.ended_at or project.deadline or now)
    running = (end - project.launched_at) // timedelta(days=1) + 1 if project.launched_at else 1
    return Dashboard(
        pledged=project.pledged_amount,
        backers=project.backer_count,
        average=project.pledged_amount // project.backer_count if project.backer_count else 0,
        today=Today(*(int(v) for v in today)),
        changed=int(ever[0]),
        cancelled=int(ever[1]),
        tiers=tier_lines(project),
        points=series.points(project.id, daily),
        daily=daily,
        days_running=max(running, 1),
    )


def tier_lines(project: Project) -> list[TierLine]:
    """Every tier with its backers and their money (held or collected), in the project's order."""
    sums = {
        tier_id: (n, amount)
        for tier_id, n, amount in db.session.execute(
            select(Pledge.tier_id, func.count(), func.sum(Pledge.total))
            .where(Pledge.project_id == project.id, Pledge.status.in_(COUNTED))
            .group_by(Pledge.tier_id)
        )
    }
    return [TierLine(t, *(int(v) for v in sums.get(t.id, (0, 0)))) for t in project.tiers]
