"""What a public profile shows: public projects, a count of projects backed, the badge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.payouts import services as payouts
from app.pledges.models import Pledge
from app.projects.domain import FUNDED_STATUSES, PUBLIC_STATUSES, ProjectStatus
from app.projects.models import Project
from app.projects.slugs import slug_of

NOT_FUNDED_STATUSES = frozenset(
    {ProjectStatus.FAILED, ProjectStatus.CANCELLED, ProjectStatus.SUSPENDED}
)


@dataclass
class Profile:
    user: User
    live: list[Project]  # live, or past its deadline and being settled
    funded: list[Project]
    not_funded: list[Project]
    backed: int  # projects backed: a count, never which
    payouts_verified: bool


def slug_of_person(user: User) -> str:
    """The readable part of the profile's URL, from the display name (may be "")."""
    return slug_of(user.display_name)


def public_user(user_id: int) -> User | None:
    """The user, unless there is none or the account is deleted or disabled."""
    user = db.session.get(User, user_id)
    return None if user is None or user.is_gone else user


def profile_of(user: User) -> Profile:
    projects = list(
        db.session.scalars(
            select(Project)
            .where(Project.owner_id == user.id, Project.status.in_(PUBLIC_STATUSES))
            .order_by(Project.launched_at.desc(), Project.id.desc())
        )
    )
    backed = db.session.scalar(
        select(func.count(func.distinct(Pledge.project_id))).where(
            Pledge.backer_id == user.id, Pledge.held_at.is_not(None)
        )
    )
    return Profile(
        user=user,
        live=[p for p in projects if p.status in (ProjectStatus.LIVE, ProjectStatus.SETTLING)],
        funded=[p for p in projects if p.status in FUNDED_STATUSES],
        not_funded=[p for p in projects if p.status in NOT_FUNDED_STATUSES],
        backed=backed or 0,
        payouts_verified=payouts.status_of(payouts.account_of(user.id))
        is payouts.PayoutStatus.READY,
    )
