"""Webhooks' other news (disputes, refunds made outside) and what needs a human.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.i18n import N_
from app.ledger import services as ledger
from app.ledger.services import Transfer
from app.pledges.domain import (
    PledgeRefused,
    PledgeStatus,
)
from app.pledges.models import (
    Payment,
    Pledge,
    Refund,
    RefundStatus,
)
from app.pledges.services.changes import _unrefunded
from app.pledges.services.refunds import plan_refunds
from app.pledges.services.taking import set_status, take

P = PledgeStatus


def flag_dispute(payment: Payment) -> None:
    take(payment.pledge_id).disputed = True
    db.session.flush()


def flag_for_attention(pledge_id: int, note: str) -> None:
    """Something about this pledge needs an admin (listed with disputes and refused refunds)."""
    pledge = take(pledge_id)
    pledge.attention = (f"{pledge.attention}\n{note}" if pledge.attention else note)[-2000:]
    db.session.flush()


def external_refund(payment: Payment, stripe_refund_id: str, amount: int) -> None:
    """A refund made outside the platform (Stripe's dashboard): book it and flag the pledge."""
    pledge = take(payment.pledge_id)
    refund = Refund(
        pledge_id=pledge.id,
        payment_id=payment.id,
        amount=amount,
        currency=pledge.currency,
        reason="external",
        status=RefundStatus.SUCCEEDED,
        idempotency_key=f"external-{stripe_refund_id}",
        stripe_refund_id=stripe_refund_id,
        completed_at=clock.now(),
    )
    db.session.add(refund)
    db.session.flush()
    ledger.book(
        Transfer("refund", f"refund:{refund.id}", pledge.project_id, pledge.id,
                 ledger.escrow(pledge.project_id), ledger.backer(pledge.backer_id),
                 amount, pledge.currency)
    )  # fmt: skip
    pledge.disputed = True
    db.session.flush()


def retry_refund(pledge: Pledge) -> list[Refund]:
    """An admin tries again a refund Stripe refused: new rows, with new keys."""
    pledge = take(pledge.id)  # two admins at once: the second sees the first's refund
    if pledge.refused_difference:  # a held pledge's reduction: only the difference goes back
        return plan_refunds(pledge, pledge.refused_difference, "retried_by_admin")
    if pledge.status is not P.REFUND_FAILED:
        raise PledgeRefused(
            gettext(
                "A %(status)s pledge has no refused refund to retry.", status=pledge.status.label
            )
        )
    if not set_status(pledge, P.REFUNDING, N_("Refund retried by an admin.")):
        raise PledgeRefused(gettext("This pledge changed meanwhile; reload and try again."))
    return plan_refunds(pledge, _unrefunded(pledge), "retried_by_admin")


def needing_attention(limit: int = 200) -> list[Pledge]:
    """Disputed pledges, refunds Stripe refused and pledges flagged (a webhook that disagreed
    with our rows): for moderators and admins."""
    refused_reduction = (Pledge.status == P.HELD) & Pledge.refunds.any(
        Refund.status == RefundStatus.FAILED
    )
    return [
        pledge
        for pledge in db.session.scalars(
            select(Pledge)
            .where(
                Pledge.disputed.is_(True)
                | (Pledge.status == P.REFUND_FAILED)
                | refused_reduction
                | (Pledge.attention != "")
            )
            .order_by(Pledge.id.desc())
            .limit(limit)
        )
        if pledge.status is not P.HELD
        or pledge.disputed
        or pledge.refused_difference
        or pledge.attention
    ]
