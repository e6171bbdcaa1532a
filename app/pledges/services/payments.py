"""Starting a pledge and a payment's outcome: held, declined, abandoned, expired, returned.

One short database step per function: it flushes, never commits (``app.pledges.checkout``
commits between steps and calls Stripe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select, update

from app import clock, events
from app.accounts.models import User
from app.extensions import db
from app.i18n import N_
from app.ledger import services as ledger
from app.ledger.services import Transfer
from app.moves import move
from app.payments.keys import idempotency_key
from app.pledges.domain import (
    PledgeRefused,
    PledgeStatus,
    check_amount,
    check_open_for_pledges,
)
from app.pledges.models import (
    Payment,
    PaymentStatus,
    Pledge,
)
from app.pledges.services import extras
from app.pledges.services.places import (
    _max_amount,
    _tier_of,
    claim_place,
    release_place,
)
from app.pledges.services.refunds import _fully_refunded, _mark_refunded, _refund_row
from app.pledges.services.taking import (
    Terms,
    check_may_start,
    reservation_minutes,
    set_status,
    take,
    take_with_project,
)
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.referrals import Source
from app.rewards.models import RewardTier

P = PledgeStatus


def open_pledge_of(backer_id: int, project_id: int) -> Pledge | None:
    return db.session.scalar(
        select(Pledge).where(
            Pledge.backer_id == backer_id,
            Pledge.project_id == project_id,
            Pledge.status.in_([P.PENDING, P.HELD]),
        )
    )


def start_pledge(
    backer: User, project: Project, terms: Terms, now: datetime, source: Source | None = None
) -> Payment:
    """A pending pledge with its reward place reserved and its first payment row; ``source``
    is where the backer came from (app/referrals.py), recorded as it is.

    On PledgeRefused the session holds rows that must not be committed: roll back."""
    if project.owner_id == backer.id:
        raise PledgeRefused(gettext("You cannot back your own project."))
    check_open_for_pledges(project.status, project.deadline, now)
    check_may_start(backer.id, now)
    # A second open pledge of the same backer fails on a partial unique index at the flush
    # (IntegrityError); callers have already looked with open_pledge_of.
    tier = _tier_of(project, terms.tier_id)
    check_amount(terms.amount, tier.minimum_amount, _max_amount(project.currency))
    priced = extras.price(project, tier, terms.amount, terms.shipping_country, terms.addons)
    pledge = Pledge(
        project_id=project.id,
        backer_id=backer.id,
        tier_id=tier.id,
        currency=project.currency,
        amount=terms.amount,
        shipping_fee=priced.shipping_fee,
        shipping_country=priced.country,
        status=P.PENDING,
        ref_tag=source.ref_tag if source else None,
        referrer_host=source.referrer_host if source else None,
    )
    db.session.add(pledge)
    db.session.flush()
    extras.set_pledge_lines(pledge, priced.lines)
    payment = _new_payment(pledge, pledge.total, tier, terms.amount, priced, now)
    # Last, so the tier's row stays locked only until the commit: every backer of a hot tier
    # queues on that row (then the add-ons'). Sold out raises PledgeRefused; the caller rolls
    # the rows back.
    claim_place(tier.id, project.id)
    extras.claim(project.id, extras.quantities(priced.lines))
    return payment


def _new_payment(
    pledge: Pledge,
    amount: int,
    tier: RewardTier,
    target_amount: int,
    priced: extras.Priced,
    now: datetime,
) -> Payment:
    payment = Payment(
        pledge_id=pledge.id,
        amount=amount,
        currency=pledge.currency,
        idempotency_key="",
        target_tier_id=tier.id,
        target_amount=target_amount,
        target_shipping_fee=priced.shipping_fee,
        target_shipping_country=priced.country,
        target_addons_amount=priced.addons_amount,
        # A place newly reserved in a limited tier waits less for its payment.
        expires_at=now
        + reservation_minutes(
            tier if pledge.status is P.PENDING or tier.id != pledge.tier_id else None
        ),
    )
    db.session.add(payment)
    db.session.flush()
    payment.idempotency_key = idempotency_key("payment", payment.id)
    db.session.flush()
    extras.add_payment_lines(payment, priced.lines)
    return payment


def attach_intent(payment_id: int, intent_id: str, client_secret: str) -> None:
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(stripe_payment_intent_id=intent_id, client_secret=client_secret)
    )


@dataclass(frozen=True)
class Outcome:
    """What became of a payment that succeeded."""

    accepted: bool  # False: the money goes back (the project closed, or the pledge moved)
    refund_ids: tuple[int, ...] = ()
    already_handled: bool = False
    reason: str = ""  # why it was not accepted: a refund reason (LATE_REASONS)


PROJECT_CLOSED = "project_closed"


PLEDGE_MOVED = "pledge_moved"


LATE_REASONS = (PROJECT_CLOSED, PLEDGE_MOVED)


def _waits_for(pledge: Pledge, payment: Payment) -> bool:
    """Whether the pledge still waits for this payment: a pending pledge for its first
    payment, a held one for the payment of a change. Cancelled, refunding, settled or
    given-up pledges wait for nothing: money landing for them goes back."""
    if payment.status is not PaymentStatus.PENDING:
        return False
    first = payment.id == min(p.id for p in pledge.payments)
    return pledge.status is (P.PENDING if first else P.HELD)


def payment_succeeded(payment_id: int, charge_id: str | None, now: datetime) -> Outcome:
    """Book a succeeded payment exactly once, and hold it if the pledge still waits for it
    and the project still takes pledges; otherwise refund it in full at once.

    Takes the project row, then the pledge (as every change and settlement's claim do), so
    it decides from the pledge as it is, not as a page or another request saw it. The
    project's totals are raised with a conditional UPDATE (``status = live AND deadline >
    now``) on the row settlement's claim updates: a pledge is counted or refunded, never lost.
    """
    pledge_id = db.session.scalar(select(Payment.pledge_id).where(Payment.id == payment_id))
    if pledge_id is None:
        return Outcome(accepted=False, already_handled=True)
    pledge = take_with_project(pledge_id)
    payment = db.session.get(Payment, payment_id)
    if payment.status is PaymentStatus.SUCCEEDED:
        late = any(r.payment_id == payment_id and r.reason in LATE_REASONS for r in pledge.refunds)
        return Outcome(accepted=not late, already_handled=True)
    waiting = _waits_for(pledge, payment)
    was_pending = payment.status is PaymentStatus.PENDING
    first = payment.id == min(p.id for p in pledge.payments)
    # Money that landed, whatever else happens: booked once (this step won the payment row).
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == payment.status)
        .values(status=PaymentStatus.SUCCEEDED, stripe_charge_id=charge_id, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    ledger.book_all(
        [Transfer("charge", f"payment:{payment.id}", pledge.project_id, pledge.id,
                  ledger.backer(pledge.backer_id), ledger.escrow(pledge.project_id),
                  payment.amount, pledge.currency)]
    )  # fmt: skip
    new_total = payment.target_total
    target_lines = extras.payment_lines(payment)
    held_items = extras.quantities(pledge.addon_lines)
    accepted = waiting and _raise_totals(
        pledge.project_id, new_total if first else new_total - pledge.total, 1 if first else 0, now
    )
    db.session.expire(payment)
    if accepted:
        before = pledge.total
        if not first and payment.target_tier_id != pledge.tier_id:
            release_place(pledge.tier_id)
        if not first:  # fewer add-on items than held: released now the change is paid
            extras.release(extras.more_of(held_items, extras.quantities(target_lines)))
        pledge.tier_id = payment.target_tier_id
        pledge.amount = payment.target_amount
        pledge.shipping_fee = payment.target_shipping_fee
        pledge.shipping_country = payment.target_shipping_country
        extras.set_pledge_lines(pledge, target_lines)
        if first:
            set_status(pledge, P.HELD)
            events.publish(events.PledgeHeld(pledge.id))
        else:
            events.publish(
                events.PledgeChanged(
                    pledge.id, before, new_total, f"p{payment_id}", payment_id=payment_id
                )
            )
        return Outcome(accepted=True)
    # The money goes straight back: the project closed while the backer paid, or the pledge
    # no longer waits for this payment (cancelled, being refunded, given up).
    reason = PROJECT_CLOSED if waiting else PLEDGE_MOVED
    if was_pending and (first or payment.target_tier_id != pledge.tier_id):
        release_place(payment.target_tier_id)
    if was_pending:  # the add-on items this payment claimed
        asked = extras.quantities(target_lines)
        extras.release(asked if first else extras.more_of(asked, held_items))
    refund = _refund_row(pledge, payment, payment.amount, reason)
    if pledge.status in (P.PENDING, P.FAILED, P.REFUNDED):
        why = (  # stored in English, shown in the reader's language (the stored_text filter)
            N_("The project closed before your payment completed.")
            if waiting
            else N_("This payment arrived after the pledge had ended.")
        )
        set_status(pledge, P.REFUNDING, why)
    events.publish(events.PaymentReturned(pledge.id, payment.id, payment.amount))
    return Outcome(accepted=False, refund_ids=(refund.id,), reason=reason)


def _raise_totals(project_id: int, amount: int, backers: int, now: datetime) -> bool:
    """Count a held pledge (or its change) in the project, if it still takes pledges."""
    return move(
        Project,
        project_id,
        {ProjectStatus.LIVE},
        where=[Project.deadline > now],
        pledged_amount=Project.pledged_amount + amount,
        backer_count=Project.backer_count + backers,
    )


def payment_declined(payment_id: int, message: str) -> None:
    """A decline leaves the payment open: the backer may try another card until it expires."""
    pledge_id = db.session.scalar(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING)
        .values(failure_message=message[:500])
        .returning(Payment.pledge_id)
    )
    if pledge_id is not None:
        events.publish(events.PaymentFailed(pledge_id, payment_id))


def payment_abandoned(payment_id: int, reason: str, expired: bool = False) -> bool:
    """Close a payment that will not complete, releasing what it reserved; one that ran out
    of time (``expired``) is told to the backer."""
    closed = _close_payment(payment_id, reason)
    if closed is not None and expired:
        events.publish(events.PaymentFailed(closed, payment_id, expired=True))
    return closed is not None


def _close_payment(payment_id: int, reason: str) -> int | None:
    """The pledge id of the payment this call closed, or None if it was not open."""
    pledge_id = db.session.scalar(select(Payment.pledge_id).where(Payment.id == payment_id))
    if pledge_id is None:
        return None
    pledge = take(pledge_id)
    won = move(
        Payment, payment_id, {PaymentStatus.PENDING}, PaymentStatus.FAILED, completed_at=clock.now()
    )
    if not won:
        return None
    payment = db.session.get(Payment, payment_id)
    db.session.expire(payment)
    asked = extras.quantities(payment.target_addons)
    if pledge.status is P.PENDING:
        release_place(pledge.tier_id)
        extras.release(asked)
        set_status(pledge, P.FAILED, reason)
    else:
        if payment.target_tier_id != pledge.tier_id:
            release_place(payment.target_tier_id)  # the place reserved for a tier change
        extras.release(extras.more_of(asked, extras.quantities(pledge.addon_lines)))
    if pledge.status is P.REFUNDING:  # its refunds were done, this payment was still open
        _mark_refunded(_fully_refunded({pledge.id}), clock.now())
    return pledge_id


def open_payments_to_recheck(
    older_than: datetime, now: datetime, limit: int = 200
) -> list[tuple[int, str]]:
    """(payment id, intent id) of payments with an intent, open since before ``older_than``
    and not yet expired (the expiry sweep takes those), oldest first."""
    rows = db.session.execute(
        select(Payment.id, Payment.stripe_payment_intent_id)
        .where(
            Payment.status == PaymentStatus.PENDING,
            Payment.stripe_payment_intent_id.is_not(None),
            Payment.created_at < older_than,
            Payment.expires_at >= now,
        )
        .order_by(Payment.id)
        .limit(limit)
    )
    return [(row.id, row.stripe_payment_intent_id) for row in rows]


def expired_payments(now: datetime, limit: int = 500) -> list[tuple[int, str | None]]:
    """(payment id, intent id) of open payments past their reservation."""
    rows = db.session.execute(
        select(Payment.id, Payment.stripe_payment_intent_id)
        .where(Payment.status == PaymentStatus.PENDING, Payment.expires_at < now)
        .order_by(Payment.id)
        .limit(limit)
    )
    return [(row.id, row.stripe_payment_intent_id) for row in rows]
