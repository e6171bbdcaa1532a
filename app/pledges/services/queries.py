"""Read queries for pages.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge


def pledges_of(backer_id: int) -> list[Pledge]:
    return list(
        db.session.scalars(
            select(Pledge).where(Pledge.backer_id == backer_id).order_by(Pledge.id.desc())
        )
    )


def count_by_status(project_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Pledge.status, func.count())
        .where(Pledge.project_id == project_id)
        .group_by(Pledge.status)
    )
    return {status.value: n for status, n in rows}


BACKED = (PledgeStatus.PENDING, PledgeStatus.HELD, PledgeStatus.COLLECTED)


def backed_pledge(backer_id: int, project_id: int) -> Pledge | None:
    """The backer's newest pledge on the project that is waiting for payment, held or paid
    out (what "You backed this" links to), or None."""
    return db.session.scalar(
        select(Pledge)
        .where(
            Pledge.backer_id == backer_id,
            Pledge.project_id == project_id,
            Pledge.status.in_(BACKED),
        )
        .order_by(Pledge.id.desc())
        .limit(1)
    )
