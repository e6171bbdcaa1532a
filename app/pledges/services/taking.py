"""Taking a pledge to change it (project row, then its version), status moves, start limits.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app import clock
from app.extensions import db
from app.i18n import N_
from app.moves import move
from app.pledges.domain import (
    ABANDON_WINDOW,
    PledgeRefused,
    PledgeStatus,
    check_transition,
    start_allowed_at,
)
from app.pledges.models import (
    Pledge,
)
from app.projects.models import Project
from app.rewards.models import RewardTier

P = PledgeStatus


MAX_PLEDGE_MAJOR = 1_000_000


@dataclass(frozen=True)
class Terms:
    """What a backer asks for: a tier, an amount for the reward, where it ships, and the
    add-ons wanted as (add-on id, quantity) pairs."""

    tier_id: int
    amount: int
    shipping_country: str | None = None
    addons: tuple[tuple[int, int], ...] = ()


def reservation_minutes(tier: RewardTier | None = None) -> timedelta:
    """How long a place waits for its payment: shorter in a limited tier, whose places an
    account could otherwise hold empty by starting pledges it never pays."""
    limited = tier is not None and tier.quantity_limit is not None
    setting = "LIMITED_RESERVATION_MINUTES" if limited else "PLEDGE_RESERVATION_MINUTES"
    return timedelta(minutes=current_app.config[setting])


def check_may_start(backer_id: int, now: datetime) -> None:
    """An account has few unpaid pledges open across the site, and one that keeps leaving
    them unpaid waits before starting another."""
    config = current_app.config
    unpaid = db.session.scalar(
        select(func.count())
        .select_from(Pledge)
        .where(Pledge.backer_id == backer_id, Pledge.status == P.PENDING)
    )
    if unpaid >= config["OPEN_PLEDGES_PER_ACCOUNT"]:
        raise PledgeRefused(
            ngettext(
                "You have %(num)d pledge waiting for payment: pay for it or stop it (on My "
                "pledges) before starting another.",
                "You have %(num)d pledges waiting for payment: pay for one or stop it (on My "
                "pledges) before starting another.",
                unpaid,
            )
        )
    abandoned = db.session.scalars(
        select(Pledge.ended_at).where(
            Pledge.backer_id == backer_id,
            Pledge.status == P.FAILED,
            Pledge.ended_at > now - ABANDON_WINDOW,
        )
    ).all()
    allowed = start_allowed_at(
        list(abandoned),
        now,
        config["ABANDONED_BEFORE_SLOWDOWN"],
        timedelta(minutes=config["ABANDON_COOLDOWN_MINUTES"]),
    )
    if allowed is not None:
        minutes = max(1, -(-int((allowed - now).total_seconds()) // 60))
        raise PledgeRefused(
            gettext(
                "You have left %(pledges)s unpaid in the last 24 hours, so a new one can start "
                "in %(minutes)s (at %(at)s UTC).",
                pledges=ngettext("%(num)d pledge", "%(num)d pledges", len(abandoned)),
                minutes=ngettext("%(num)d minute", "%(num)d minutes", minutes),
                at=f"{allowed:%H:%M}",
            )
        )


def set_status(pledge: Pledge, target: PledgeStatus, reason: str = "") -> bool:
    """Move a pledge forward if it is still where we found it; False if someone else did."""
    check_transition(pledge.status, target)
    values: dict = {"status": target, "version": Pledge.version + 1}
    if target is P.HELD:
        values["held_at"] = clock.now()
    if target in (P.REFUNDED, P.FAILED, P.COLLECTED, P.REFUND_FAILED):
        values["ended_at"] = clock.now()
    if reason:
        values["end_reason"] = reason
    if not move(Pledge, pledge.id, {pledge.status}, **values):
        db.session.refresh(pledge)  # someone else moved it: see where it is now
        return False
    for name, value in values.items():
        if name != "version":
            set_committed_value(pledge, name, value)
    db.session.expire(pledge, ["version"])
    return True


class PledgeChanged(PledgeRefused):
    """The pledge moved while this request decided: nothing was done (answered 409)."""


CHANGED = N_(
    "Your pledge changed meanwhile (perhaps in another tab), so nothing was done and nothing "
    "was charged or refunded. Here it is as it stands now."
)


def lock_project(project_id: int) -> None:
    """Lock the project row (PostgreSQL; FOR NO KEY UPDATE, so pledges and ledger rows that
    reference it can still be written). Lock order everywhere: the project, then the pledge,
    then its payments and refunds, then reward tiers; settlement takes them in that order."""
    db.session.execute(
        select(Project.id).where(Project.id == project_id).with_for_update(key_share=True)
    )


def take(pledge_id: int, seen_version: int | None = None) -> Pledge:
    """Take a pledge for one change and read it again, as it is now.

    The version is raised first: that write holds the row until the commit (its row lock on
    PostgreSQL; on SQLite, where FOR UPDATE does nothing, the database's one write lock), so
    everything read after it is current and nobody else changes the pledge meanwhile.
    ``seen_version`` is the version the user's page showed: if the pledge has moved since,
    PledgeChanged (the caller rolls back, undoing the raise)."""
    db.session.flush()
    version = db.session.execute(
        update(Pledge)
        .where(Pledge.id == pledge_id)
        .values(version=Pledge.version + 1)
        .returning(Pledge.version)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if version is None:
        raise PledgeRefused(gettext("There is no such pledge."))
    if seen_version is not None and version != seen_version + 1:
        raise PledgeChanged(gettext(CHANGED))
    db.session.expire_all()  # the pledge, its payments and refunds: read again from here on
    return db.session.get(Pledge, pledge_id)


def take_with_project(pledge_id: int, seen_version: int | None = None) -> Pledge:
    """The project row, then the pledge: for every step that moves a project's totals."""
    project_id = db.session.scalar(select(Pledge.project_id).where(Pledge.id == pledge_id))
    if project_id is None:
        raise PledgeRefused(gettext("There is no such pledge."))
    lock_project(project_id)
    return take(pledge_id, seen_version)


def _forget(model: type, row_id: int) -> None:
    """Expire the session's copy of a row, if it has one, after an UPDATE that bypassed it."""
    loaded = db.session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        db.session.expire(loaded)
