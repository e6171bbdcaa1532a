"""The demo's pledges, made for real: the platform's checkout against the configured Stripe.

Each planned pledge goes through ``checkout.begin_pledge`` (reward place, Stripe customer,
PaymentIntent with its idempotency key), is confirmed server-side with a test card, as
Stripe.js would in the browser, and is recorded with ``checkout.record_intent``. The project
totals, the reward places taken and the ledger therefore all come from real pledges, and
``flask ledger check`` agrees with them. Offline the Stripe is the local fake server.

Every step commits, as checkout does (no transaction may be open while Stripe is called), so
this runs after the accounts and projects are committed. When Stripe cannot be reached,
pledging stops with a warning and the projects keep whatever real pledges were made (none,
if it was unreachable from the start); totals are never set by hand.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from app.demo.data import BACKERS, REFERRING_SITES, SHIP_TO, ProjectSpec
from app.extensions import db
from app.money import currency as currency_info
from app.payments import gateway
from app.payments.gateway import GatewayError
from app.pledges import checkout
from app.pledges.checkout import Confirmed
from app.pledges.domain import PledgeRefused, PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge
from app.pledges.services import Terms
from app.referrals import Source
from app.workflow import transaction

log = logging.getLogger(__name__)

TEST_CARD = "pm_card_visa"  # Stripe's test id for 4242 4242 4242 4242: always succeeds
TIP_SHARE = 0.3  # about this share of backers pledge more than the tier's minimum
TIPS = (0.2, 0.5, 1.0)  # ... by this fraction of the minimum


@dataclass(frozen=True)
class PlannedPledge:
    backer: str  # a BACKERS key
    tier: int  # index into the project's tiers
    amount: int  # major units, at least the tier's minimum (shipping not included)
    country: str | None  # where the reward ships, for tiers that ship
    source: Source | None = None  # where the backer came from (a referral tag, a site)


@dataclass(frozen=True)
class LiveProject:
    """A live project as the seed created it: what pledging needs, by id."""

    id: int
    tier_ids: tuple[int, ...]
    spec: ProjectSpec
    addon_ids: tuple[int, ...] = ()


@dataclass
class PledgeSummary:
    made: int = 0
    held: dict[str, int] = field(default_factory=dict)  # currency -> minor units in escrow
    warning: str = ""


def plan(spec: ProjectSpec) -> list[PlannedPledge]:
    """The pledges a live project gets: ``backers`` per tier, the same on every run."""
    rng = random.Random(spec.title)  # noqa: S311 - demo data, not security
    tiers = [i for i, tier in enumerate(spec.tiers) for _ in range(tier.backers)]
    if len(tiers) > len(BACKERS):
        raise ValueError(f"{spec.title!r} wants more pledges than there are demo backers")
    rng.shuffle(tiers)
    backers = rng.sample(BACKERS, len(tiers))
    pledges = []
    for backer, index in zip(backers, tiers, strict=True):
        tier = spec.tiers[index]
        amount = tier.minimum
        if rng.random() < TIP_SHARE:
            amount += max(1, round(tier.minimum * rng.choice(TIPS)))
        country = rng.choice(SHIP_TO[spec.currency]) if tier.shipping_rules else None
        pledges.append(PlannedPledge(backer.key, index, amount, country))
    return with_sources(spec, pledges)


def with_sources(spec: ProjectSpec, pledges: list[PlannedPledge]) -> list[PlannedPledge]:
    """A project with referral tags gets pledges through each tag, from the referring sites
    and directly (its own random draw, so the other projects' plans stay as they were)."""
    if not spec.referral_tags:
        return pledges
    rng = random.Random(f"{spec.title} sources")  # noqa: S311 - demo data, not security
    sources = [Source(tag, None) for tag, _ in spec.referral_tags]
    sources += [Source(None, host) for host in REFERRING_SITES]
    return [replace(pledge, source=rng.choice([*sources, None, None])) for pledge in pledges]


def make_pledges(projects: list[LiveProject], backer_ids: dict[str, int]) -> PledgeSummary:
    """Make every planned pledge; stop with a warning when the payment provider fails.

    Called with no transaction open: checkout commits step by step around each Stripe call."""
    summary = PledgeSummary()
    for project in projects:
        factor = currency_info(project.spec.currency).factor
        for number, pledge in enumerate(plan(project.spec)):
            terms = Terms(
                tier_id=project.tier_ids[pledge.tier],
                amount=pledge.amount * factor,
                shipping_country=pledge.country,
                addons=addons_of(project, number, pledge.country),
            )
            problem = _pledge(backer_ids[pledge.backer], project.id, terms, pledge.source)
            if problem:
                summary.warning = problem
                break
            summary.made += 1
        if summary.warning:
            break
    summary.held = held_by_currency()
    return summary


def addons_of(project: LiveProject, number: int, country: str | None) -> tuple:
    """The add-ons the ``number``-th planned pledge takes: one of each whose turn it is (one
    that ships only when the pledge ships somewhere)."""
    return tuple(
        (addon_id, 1)
        for addon_id, extra in zip(project.addon_ids, project.spec.addons, strict=True)
        if number % extra.every == 0 and (country or not extra.shipping_to)
    )


def _pledge(backer_id: int, project_id: int, terms: Terms, source: Source | None = None) -> str:
    """One pledge, paid and held; an empty string, or what went wrong."""
    try:
        payment_id = checkout.begin_pledge(backer_id, project_id, terms, source).payment_id
    except (PledgeRefused, GatewayError) as error:
        db.session.rollback()
        return f"the pledge could not start: {error}"
    with transaction():
        intent_id = db.session.get(Payment, payment_id).stripe_payment_intent_id
    try:
        intent = gateway().confirm_payment_intent(intent_id, TEST_CARD)
    except GatewayError as error:
        # E.g. Stripe replayed an intent already paid (its key was used by an earlier seed):
        # abandoning cancels the intent, or records it if it succeeded after all.
        db.session.rollback()
        if _abandon(payment_id):
            return ""
        return f"the payment could not be confirmed: {error.message}"
    outcome = checkout.record_intent(
        payment_id, intent.status, intent.charge_id, intent.error_message
    )
    if outcome.status is not Confirmed.HELD:
        return f"the payment ended {outcome.status}: {outcome.message or intent.status}"
    return ""


def _abandon(payment_id: int) -> bool:
    """Stop a payment that could not be confirmed; True if it turns out to have succeeded.

    If Stripe cannot be reached, the payment stays pending and the expiry sweep ends it.
    """
    try:
        checkout.abandon(payment_id, "The demo payment could not be confirmed.")
    except GatewayError as error:
        db.session.rollback()
        log.warning("payment %s left pending for the expiry sweep: %s", payment_id, error)
    with transaction():
        return db.session.get(Payment, payment_id).status is PaymentStatus.SUCCEEDED


def held_by_currency() -> dict[str, int]:
    """Money held in escrow for pledges, per currency, in minor units."""
    with transaction():
        rows = db.session.execute(
            select(Pledge.currency, func.sum(Pledge.total))
            .where(Pledge.status == PledgeStatus.HELD)
            .group_by(Pledge.currency)
            .order_by(Pledge.currency)
        )
        return {code: int(total) for code, total in rows}
