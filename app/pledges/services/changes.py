"""Changing and cancelling a held pledge.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import update

from app import events
from app.extensions import db
from app.i18n import N_
from app.pledges.domain import (
    PledgeRefused,
    PledgeStatus,
    change_for,
    check_amount,
    check_open_for_pledges,
    check_reduction_allowed,
)
from app.pledges.models import (
    Payment,
    PaymentStatus,
    Pledge,
    Refund,
    RefundStatus,
)
from app.pledges.services import extras
from app.pledges.services.payments import _new_payment
from app.pledges.services.places import (
    _max_amount,
    _tier_of,
    claim_place,
    release_place,
)
from app.pledges.services.refunds import plan_refunds
from app.pledges.services.taking import Terms, set_status, take_with_project
from app.projects.models import Project

P = PledgeStatus


def _lower_totals(project_id: int, amount: int, backers: int) -> None:
    db.session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(
            pledged_amount=Project.pledged_amount - amount,
            backer_count=Project.backer_count - backers,
        )
        .execution_options(synchronize_session=False)
    )


def _check_change_window(pledge: Pledge, reduction: int, now: datetime) -> Project:
    """Changes are taken while the project is live; the last-day rule for reductions.
    Called after ``take_with_project``: the project row read here is locked and current."""
    project = db.session.get(Project, pledge.project_id)
    check_open_for_pledges(project.status, project.deadline, now)
    check_reduction_allowed(
        pledged_total=project.pledged_amount,
        goal=project.goal_amount,
        reduction=reduction,
        deadline=project.deadline,
        now=now,
    )
    return project


def _check_changeable(pledge: Pledge, action: str) -> None:
    if pledge.status is not P.HELD:
        message = (
            N_("A %(status)s pledge cannot be cancelled.")
            if action == "cancelled"
            else N_("A %(status)s pledge cannot be changed.")
        )
        raise PledgeRefused(gettext(message, status=pledge.status.label))
    if _has_pending_payment(pledge):
        raise PledgeRefused(
            gettext("A payment for this pledge is still open: finish or abandon it.")
        )


def cancel_pledge(pledge_id: int, now: datetime, seen_version: int | None = None) -> list[Refund]:
    """The backer withdraws before the deadline: a full refund, the place released.

    Decided from the pledge as it is once taken; ``seen_version`` is what the backer's page
    showed (PledgeChanged if it moved since)."""
    pledge = take_with_project(pledge_id, seen_version)
    _check_changeable(pledge, "cancelled")
    _check_change_window(pledge, pledge.total, now)
    set_status(pledge, P.REFUNDING, N_("Cancelled by the backer."))
    _lower_totals(pledge.project_id, pledge.total, 1)
    release_place(pledge.tier_id)
    extras.release(extras.quantities(pledge.addon_lines))
    refunds = plan_refunds(pledge, _unrefunded(pledge), "cancelled_by_backer")
    events.publish(
        events.PledgeCancelled(pledge.id, sum(r.amount for r in refunds), [r.id for r in refunds])
    )
    return refunds


def _unrefunded(pledge: Pledge) -> int:
    """Paid and not yet on its way back: a refund still pending (a reduction Stripe has not
    answered yet) is already going, so it is not planned twice."""
    paid = sum(p.amount for p in pledge.payments if p.status is PaymentStatus.SUCCEEDED)
    back = sum(r.amount for r in pledge.refunds if r.status is not RefundStatus.FAILED)
    return paid - back


@dataclass(frozen=True)
class ChangePlan:
    payment: Payment | None = None  # an increase waits for this payment
    refunds: tuple[Refund, ...] = ()  # a decrease returns the difference


def change_pledge(
    pledge_id: int, terms: Terms, now: datetime, seen_version: int | None = None
) -> ChangePlan:
    """Change tier, amount, add-ons or shipping. More money: a new payment; less: a refund.

    Decided from the pledge as it is once taken (see ``cancel_pledge``)."""
    pledge = take_with_project(pledge_id, seen_version)
    _check_changeable(pledge, "changed")
    project = pledge.project
    tier = _tier_of(project, terms.tier_id)
    check_amount(terms.amount, tier.minimum_amount, _max_amount(project.currency))
    # Same reward, same place: the fee it paid stands, whatever the rules say now (and so
    # for an add-on line of the same quantity).
    priced = extras.price(
        project, tier, terms.amount, terms.shipping_country, terms.addons, pledge=pledge
    )
    new_total = terms.amount + priced.shipping_fee + priced.addons_amount
    change = change_for(pledge.total, new_total)
    _check_change_window(pledge, change.refund, now)
    held, wanted = extras.quantities(pledge.addon_lines), extras.quantities(priced.lines)
    if tier.id != pledge.tier_id:
        claim_place(tier.id, project.id)
    extras.claim(project.id, extras.more_of(wanted, held))
    if change.charge:
        return ChangePlan(
            payment=_new_payment(pledge, change.charge, tier, terms.amount, priced, now)
        )
    if tier.id != pledge.tier_id:
        release_place(pledge.tier_id)
    extras.release(extras.more_of(held, wanted))
    _lower_totals(project.id, change.refund, 0)
    before = pledge.total
    pledge.tier_id, pledge.amount = tier.id, terms.amount
    pledge.shipping_fee, pledge.shipping_country = priced.shipping_fee, priced.country
    extras.set_pledge_lines(pledge, priced.lines)
    refunds = plan_refunds(pledge, change.refund, "reduced_by_backer") if change.refund else []
    events.publish(
        events.PledgeChanged(
            pledge.id, before, new_total, f"v{pledge.version}", refund_ids=[r.id for r in refunds]
        )
    )
    return ChangePlan(refunds=tuple(refunds))


def _has_pending_payment(pledge: Pledge) -> bool:
    return any(p.status is PaymentStatus.PENDING for p in pledge.payments)
