"""Reward places: claimed when a pledge starts, released when it ends unpaid.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import update

from app.extensions import db
from app.i18n import countries
from app.i18n import web as i18n_web
from app.moves import move
from app.pledges.domain import (
    PledgeRefused,
)
from app.pledges.services.taking import MAX_PLEDGE_MAJOR
from app.projects.models import Project
from app.rewards.models import RewardTier


def claim_place(tier_id: int, project_id: int) -> None:
    """Take one place of a tier with one atomic conditional UPDATE: never oversold."""
    won = move(
        RewardTier,
        tier_id,
        None,
        where=[
            RewardTier.project_id == project_id,
            RewardTier.is_closed.is_(False),
            RewardTier.quantity_limit.is_(None) | (RewardTier.claimed < RewardTier.quantity_limit),
        ],
        claimed=RewardTier.claimed + 1,
    )
    if not won:
        raise PledgeRefused(gettext("Sorry, this reward is sold out or no longer available."))


def release_place(tier_id: int) -> None:
    db.session.execute(
        update(RewardTier)
        .where(RewardTier.id == tier_id, RewardTier.claimed > 0)
        .values(claimed=RewardTier.claimed - 1)
        .execution_options(synchronize_session=False)
    )


def shipping_for(tier: RewardTier, country: str | None) -> tuple[int, str | None]:
    """(fee, country) of a pledge for ``tier`` shipped to ``country``, from the tier's rules
    (``app.rewards.domain``); refused when it ships and the country is missing or not served."""
    if not tier.ships:
        return 0, None
    if not country:
        raise PledgeRefused(gettext("This reward ships: choose the country to ship it to."))
    fee = tier.shipping_fee_to(country)
    if fee is None:
        raise PledgeRefused(
            gettext("This reward does not ship to %(country)s.", country=country_name(country))
        )
    return fee, country.upper()


def _tier_of(project: Project, tier_id: int) -> RewardTier:
    tier = db.session.get(RewardTier, tier_id)
    if tier is None or tier.project_id != project.id:
        raise PledgeRefused(gettext("Choose one of this project's rewards."))
    return tier


def _max_amount(currency: str) -> int:
    from app.money import currency as currency_info

    return MAX_PLEDGE_MAJOR * currency_info(currency).factor


def country_name(code: str) -> str:
    return countries.name(code.upper(), i18n_web.current())
