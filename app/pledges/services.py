"""Pledge bookkeeping: each function is one short database step that flushes, never commits.

The steps that talk to Stripe are put together in ``app.pledges.checkout``, which commits
between them. Every step that can race (a browser return and a webhook for the same payment,
a pledge and the settlement claim) changes rows with a conditional UPDATE and checks the row
count, so it happens exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app import clock, events
from app.accounts.models import User
from app.extensions import db
from app.ledger import services as ledger
from app.moves import move
from app.payments.keys import idempotency_key
from app.pledges.domain import (
    ABANDON_WINDOW,
    PledgeRefused,
    PledgeStatus,
    change_for,
    check_amount,
    check_open_for_pledges,
    check_reduction_allowed,
    check_transition,
    start_allowed_at,
)
from app.pledges.models import (
    REFUND_IN_FLIGHT,
    Payment,
    PaymentStatus,
    Pledge,
    Refund,
    RefundStatus,
)
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards.models import RewardTier

P = PledgeStatus
MAX_PLEDGE_MAJOR = 1_000_000


@dataclass(frozen=True)
class Terms:
    """What a backer asks for: a tier, an amount for the reward, where it ships."""

    tier_id: int
    amount: int
    shipping_country: str | None = None


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
            f"You have {unpaid} pledges waiting for payment: pay for one or stop it "
            "(on My pledges) before starting another."
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
            f"You have left {len(abandoned)} pledges unpaid in the last 24 hours, so a new "
            f"one can start in {minutes} minutes (at {allowed:%H:%M} UTC)."
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


CHANGED = (
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
        raise PledgeRefused("There is no such pledge.")
    if seen_version is not None and version != seen_version + 1:
        raise PledgeChanged(CHANGED)
    db.session.expire_all()  # the pledge, its payments and refunds: read again from here on
    return db.session.get(Pledge, pledge_id)


def take_with_project(pledge_id: int, seen_version: int | None = None) -> Pledge:
    """The project row, then the pledge: for every step that moves a project's totals."""
    project_id = db.session.scalar(select(Pledge.project_id).where(Pledge.id == pledge_id))
    if project_id is None:
        raise PledgeRefused("There is no such pledge.")
    lock_project(project_id)
    return take(pledge_id, seen_version)


def _forget(model: type, row_id: int) -> None:
    """Expire the session's copy of a row, if it has one, after an UPDATE that bypassed it."""
    loaded = db.session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        db.session.expire(loaded)


# ---- reward places ----------------------------------------------------------------------


def claim_place(tier_id: int, project_id: int) -> None:
    """Take one place of a tier with one atomic conditional UPDATE: never oversold."""
    result = db.session.execute(
        update(RewardTier)
        .where(
            RewardTier.id == tier_id,
            RewardTier.project_id == project_id,
            RewardTier.is_closed.is_(False),
            (RewardTier.quantity_limit.is_(None))
            | (RewardTier.claimed < RewardTier.quantity_limit),
        )
        .values(claimed=RewardTier.claimed + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise PledgeRefused("Sorry, this reward is sold out or no longer available.")


def release_place(tier_id: int) -> None:
    db.session.execute(
        update(RewardTier)
        .where(RewardTier.id == tier_id, RewardTier.claimed > 0)
        .values(claimed=RewardTier.claimed - 1)
        .execution_options(synchronize_session=False)
    )


def shipping_for(tier: RewardTier, country: str | None) -> tuple[int, str | None]:
    if not tier.ships:
        return 0, None
    if not country:
        raise PledgeRefused("This reward ships: choose the country to ship it to.")
    return tier.shipping_fee or 0, country


def _tier_of(project: Project, tier_id: int) -> RewardTier:
    tier = db.session.get(RewardTier, tier_id)
    if tier is None or tier.project_id != project.id:
        raise PledgeRefused("Choose one of this project's rewards.")
    return tier


def _max_amount(currency: str) -> int:
    from app.money import currency as currency_info

    return MAX_PLEDGE_MAJOR * currency_info(currency).factor


# ---- starting a pledge ------------------------------------------------------------------


def open_pledge_of(backer_id: int, project_id: int) -> Pledge | None:
    return db.session.scalar(
        select(Pledge).where(
            Pledge.backer_id == backer_id,
            Pledge.project_id == project_id,
            Pledge.status.in_([P.PENDING, P.HELD]),
        )
    )


def start_pledge(backer: User, project: Project, terms: Terms, now: datetime) -> Payment:
    """A pending pledge with its reward place reserved and its first payment row.

    On PledgeRefused the session holds rows that must not be committed: roll back."""
    if project.owner_id == backer.id:
        raise PledgeRefused("You cannot back your own project.")
    check_open_for_pledges(project.status.value, project.deadline, now)
    check_may_start(backer.id, now)
    # A second open pledge of the same backer fails on a partial unique index at the flush
    # (IntegrityError); callers have already looked with open_pledge_of.
    tier = _tier_of(project, terms.tier_id)
    check_amount(terms.amount, tier.minimum_amount, _max_amount(project.currency))
    shipping, country = shipping_for(tier, terms.shipping_country)
    pledge = Pledge(
        project_id=project.id,
        backer_id=backer.id,
        tier_id=tier.id,
        currency=project.currency,
        amount=terms.amount,
        shipping_fee=shipping,
        shipping_country=country,
        status=P.PENDING,
    )
    db.session.add(pledge)
    db.session.flush()
    payment = _new_payment(pledge, pledge.total, tier, terms.amount, shipping, country, now)
    # Last, so the tier's row stays locked only until the commit: every backer of a hot tier
    # queues on that row. Sold out raises PledgeRefused; the caller rolls the rows back.
    claim_place(tier.id, project.id)
    return payment


def _new_payment(
    pledge: Pledge,
    amount: int,
    tier: RewardTier,
    target_amount: int,
    shipping: int,
    country: str | None,
    now: datetime,
) -> Payment:
    payment = Payment(
        pledge_id=pledge.id,
        amount=amount,
        currency=pledge.currency,
        idempotency_key="",
        target_tier_id=tier.id,
        target_amount=target_amount,
        target_shipping_fee=shipping,
        target_shipping_country=country,
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
    return payment


def attach_intent(payment_id: int, intent_id: str, client_secret: str) -> None:
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(stripe_payment_intent_id=intent_id, client_secret=client_secret)
    )


# ---- a payment's outcome ----------------------------------------------------------------


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
    ledger.book_many(
        "charge",
        [(f"payment:{payment.id}", pledge.project_id, pledge.id, pledge.currency,
          ledger.backer(pledge.backer_id), ledger.escrow(pledge.project_id), payment.amount)],
    )  # fmt: skip
    new_total = payment.target_amount + payment.target_shipping_fee
    accepted = waiting and _raise_totals(
        pledge.project_id, new_total if first else new_total - pledge.total, 1 if first else 0, now
    )
    db.session.expire(payment)
    if accepted:
        if not first and payment.target_tier_id != pledge.tier_id:
            release_place(pledge.tier_id)
        pledge.tier_id = payment.target_tier_id
        pledge.amount = payment.target_amount
        pledge.shipping_fee = payment.target_shipping_fee
        pledge.shipping_country = payment.target_shipping_country
        db.session.flush()
        if first:
            set_status(pledge, P.HELD)
        return Outcome(accepted=True)
    # The money goes straight back: the project closed while the backer paid, or the pledge
    # no longer waits for this payment (cancelled, being refunded, given up).
    reason = PROJECT_CLOSED if waiting else PLEDGE_MOVED
    if was_pending and (first or payment.target_tier_id != pledge.tier_id):
        release_place(payment.target_tier_id)
    refund = _refund_row(pledge, payment, payment.amount, reason)
    if pledge.status in (P.PENDING, P.FAILED, P.REFUNDED):
        why = (
            "The project closed before your payment completed."
            if waiting
            else "This payment arrived after the pledge had ended."
        )
        set_status(pledge, P.REFUNDING, why)
    events.publish(events.PaymentReturned(pledge.id, payment.id, payment.amount))
    return Outcome(accepted=False, refund_ids=(refund.id,), reason=reason)


def _raise_totals(project_id: int, amount: int, backers: int, now: datetime) -> bool:
    """Count a held pledge (or its change) in the project, if it still takes pledges."""
    return (
        db.session.execute(
            update(Project)
            .where(
                Project.id == project_id,
                Project.status == ProjectStatus.LIVE,
                Project.deadline > now,
            )
            .values(
                pledged_amount=Project.pledged_amount + amount,
                backer_count=Project.backer_count + backers,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def payment_declined(payment_id: int, message: str) -> None:
    """A decline leaves the payment open: the backer may try another card until it expires."""
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING)
        .values(failure_message=message[:500])
    )


def payment_abandoned(payment_id: int, reason: str) -> bool:
    """Close a payment that will not complete, releasing what it reserved."""
    pledge_id = db.session.scalar(select(Payment.pledge_id).where(Payment.id == payment_id))
    if pledge_id is None:
        return False
    pledge = take(pledge_id)
    won = move(
        Payment, payment_id, {PaymentStatus.PENDING}, PaymentStatus.FAILED, completed_at=clock.now()
    )
    if not won:
        return False
    payment = db.session.get(Payment, payment_id)
    db.session.expire(payment)
    if pledge.status is P.PENDING:
        release_place(pledge.tier_id)
        set_status(pledge, P.FAILED, reason)
    elif payment.target_tier_id != pledge.tier_id:
        release_place(payment.target_tier_id)  # the place reserved for a tier change
    if pledge.status is P.REFUNDING:  # its refunds were done, this payment was still open
        _mark_refunded(_fully_refunded({pledge.id}), clock.now())
    return True


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


# ---- refunds ----------------------------------------------------------------------------


def _refund_row(pledge: Pledge, payment: Payment, amount: int, reason: str) -> Refund:
    refund = Refund(
        pledge_id=pledge.id,
        payment_id=payment.id,
        amount=amount,
        currency=pledge.currency,
        reason=reason,
        idempotency_key="",
    )
    db.session.add(refund)
    db.session.flush()
    refund.idempotency_key = idempotency_key("refund", refund.id)
    db.session.flush()
    return refund


def plan_refunds(pledge: Pledge, amount: int, reason: str) -> list[Refund]:
    """Refund rows for ``amount``, taken from the pledge's payments, newest first."""
    refunds = []
    for payment in sorted(pledge.payments, key=lambda p: p.id, reverse=True):
        if amount <= 0:
            break
        if payment.status is not PaymentStatus.SUCCEEDED:
            continue
        already = sum(
            r.amount
            for r in pledge.refunds
            if r.payment_id == payment.id and r.status is not RefundStatus.FAILED
        )
        part = min(amount, payment.amount - already)
        if part > 0:
            refunds.append(_refund_row(pledge, payment, part, reason))
            amount -= part
    if amount > 0:
        raise ValueError(f"pledge {pledge.id} has not enough paid to refund {amount} more")
    return refunds


def refund_succeeded(refund_id: int, stripe_refund_id: str) -> bool:
    """Book a refund once; a fully refunded pledge under refund becomes refunded."""
    return record_refunds_succeeded([(refund_id, stripe_refund_id)]) == 1


def record_refunds_succeeded(results: list[tuple[int, str]]) -> int:
    """Book refunds Stripe made, given as (refund id, Stripe refund id), each exactly once.

    Set-based, so settlement records hundreds of refunds in a handful of statements: a
    conditional UPDATE picks the refunds still pending (a repeat report wins nothing), the
    ledger gets one transaction each, and pledges with nothing left in escrow and no refund
    pending become refunded.
    """
    if not results:
        return 0
    now = clock.now()
    stripe_ids = dict(results)
    won = db.session.scalars(
        update(Refund)
        .where(Refund.id.in_(stripe_ids), Refund.status.in_(REFUND_IN_FLIGHT))
        .values(status=RefundStatus.SUCCEEDED, completed_at=now)
        .returning(Refund.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not won:
        return 0
    refunds = Refund.__table__
    db.session.execute(
        refunds.update()
        .where(refunds.c.id == bindparam("refund_id"))
        .values(stripe_refund_id=bindparam("stripe_id")),
        [{"refund_id": rid, "stripe_id": stripe_ids[rid]} for rid in won],
    )
    rows = db.session.execute(
        select(
            Refund.id,
            Refund.amount,
            Refund.currency,
            Pledge.id.label("pledge_id"),
            Pledge.project_id,
            Pledge.backer_id,
        )
        .join(Pledge, Pledge.id == Refund.pledge_id)
        .where(Refund.id.in_(won))
    ).all()
    ledger.book_many(
        "refund",
        [
            (
                f"refund:{r.id}",
                r.project_id,
                r.pledge_id,
                r.currency,
                ledger.escrow(r.project_id),
                ledger.backer(r.backer_id),
                r.amount,
            )
            for r in rows
        ],
    )
    _mark_refunded(_fully_refunded({r.pledge_id for r in rows}), now)
    db.session.expire_all()
    return len(won)


def _mark_refunded(finished: list[int], now: datetime) -> None:
    if finished:
        db.session.execute(
            update(Pledge)
            .where(Pledge.id.in_(finished), Pledge.status == P.REFUNDING)
            .values(status=P.REFUNDED, ended_at=now, version=Pledge.version + 1)
            .execution_options(synchronize_session=False)
        )
        events.publish(events.PledgesRefunded(finished))  # one message per pledge, not per refund


def _fully_refunded(pledge_ids: set[int]) -> list[int]:
    """Of these pledges, those with nothing left in escrow, no refund pending and no payment
    still open (a change the backer may yet pay: it would bring money back into escrow)."""
    paid = dict(
        db.session.execute(
            select(Payment.pledge_id, func.sum(Payment.amount))
            .where(Payment.pledge_id.in_(pledge_ids), Payment.status == PaymentStatus.SUCCEEDED)
            .group_by(Payment.pledge_id)
        ).all()
    )
    back: dict[int, int] = {}
    pending: set[int] = set()
    for pledge_id, status, amount in db.session.execute(
        select(Refund.pledge_id, Refund.status, func.sum(Refund.amount))
        .where(Refund.pledge_id.in_(pledge_ids))
        .group_by(Refund.pledge_id, Refund.status)
    ):
        if status is RefundStatus.SUCCEEDED:
            back[pledge_id] = amount
        elif status in REFUND_IN_FLIGHT:
            pending.add(pledge_id)
    pending.update(
        db.session.scalars(
            select(Payment.pledge_id).where(
                Payment.pledge_id.in_(pledge_ids), Payment.status == PaymentStatus.PENDING
            )
        )
    )
    return [p for p in pledge_ids if p not in pending and paid.get(p, 0) == back.get(p, 0)]


def refund_refused(refund_id: int, message: str) -> None:
    """Stripe will not make this refund: it needs a human; the money stays accounted for."""
    won = move(
        Refund,
        refund_id,
        REFUND_IN_FLIGHT,
        RefundStatus.FAILED,
        failure_message=message[:500],
        completed_at=clock.now(),
    )
    if won:
        refund = db.session.get(Refund, refund_id)
        db.session.refresh(refund)
        pledge = refund.pledge
        db.session.refresh(pledge)
        if pledge.status is P.REFUNDING:
            set_status(pledge, P.REFUND_FAILED, f"Refund refused: {message}")


def refund_failed(refund_id: int, message: str) -> None:
    """Stripe says a refund failed. Not yet booked: refused, as at once. Already booked as
    made (Stripe answered it pending, or it failed days later at the card network): the money
    is back in escrow, so the ledger books it back, the pledge waits for an admin (refund
    failed) and the backer is told."""
    pledge_id = db.session.scalar(select(Refund.pledge_id).where(Refund.id == refund_id))
    if pledge_id is None:
        return
    pledge = take(pledge_id)
    refund = db.session.get(Refund, refund_id)
    if refund.status in REFUND_IN_FLIGHT:  # not booked yet: simply refused
        refund_refused(refund_id, message)
        return
    if refund.status is not RefundStatus.SUCCEEDED:
        return  # already failed: a repeated event
    db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.SUCCEEDED)
        .values(status=RefundStatus.FAILED, failure_message=message[:500])
        .execution_options(synchronize_session=False)
    )
    ledger.book(
        "refund_failed",
        f"refund-failed:{refund_id}",
        pledge.project_id,
        pledge.id,
        refund.currency,
        [(ledger.backer(pledge.backer_id), ledger.escrow(pledge.project_id), refund.amount)],
    )
    db.session.expire(refund)
    note = f"Refund {refund_id} failed after it was made ({message}); the money is in escrow."
    pledge.attention = (f"{pledge.attention}\n{note}" if pledge.attention else note)[-2000:]
    db.session.flush()
    if pledge.status in (P.REFUNDED, P.REFUNDING):
        if pledge.status is P.REFUNDED:
            set_status(pledge, P.REFUNDING)
        set_status(pledge, P.REFUND_FAILED, f"Refund refused: {message}")
    events.publish(events.RefundFailed(pledge.id, refund_id, refund.amount))


def record_refunds_processing(results: list[tuple[int, str]]) -> int:
    """Refunds Stripe accepted as ``pending``, given as (refund id, Stripe refund id): their
    Stripe id is kept and they are not booked; Stripe's ``refund.updated`` (or the sweep's
    re-read) books them once they succeed."""
    if not results:
        return 0
    stripe_ids = dict(results)
    won = db.session.scalars(
        update(Refund)
        .where(Refund.id.in_(stripe_ids), Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.PROCESSING)
        .returning(Refund.id)
        .execution_options(synchronize_session=False)
    ).all()
    refunds = Refund.__table__
    if won:
        db.session.execute(
            refunds.update()
            .where(refunds.c.id == bindparam("refund_id"))
            .values(stripe_refund_id=bindparam("stripe_id")),
            [{"refund_id": rid, "stripe_id": stripe_ids[rid]} for rid in won],
        )
    db.session.expire_all()
    return len(won)


def processing_refunds(older_than: datetime, limit: int = 500) -> list[tuple[int, str]]:
    """(refund id, Stripe refund id) of refunds pending at Stripe since before ``older_than``:
    the sweep asks Stripe about them, in case their webhook was lost."""
    return [
        (row.id, row.stripe_refund_id)
        for row in db.session.execute(
            select(Refund.id, Refund.stripe_refund_id)
            .where(
                Refund.status == RefundStatus.PROCESSING,
                Refund.stripe_refund_id.is_not(None),
                Refund.created_at < older_than,
            )
            .order_by(Refund.id)
            .limit(limit)
        )
    ]


def refund_attempt_failed(refund_id: int, message: str) -> None:
    """A passing failure: the refund stays pending and a later sweep retries it."""
    db.session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
        .values(attempts=Refund.attempts + 1, failure_message=message[:500])
    )


def pending_refunds(limit: int = 500) -> list[int]:
    return list(
        db.session.scalars(
            select(Refund.id)
            .where(Refund.status == RefundStatus.PENDING)
            .order_by(Refund.id)
            .limit(limit)
        )
    )


# ---- changing and cancelling ------------------------------------------------------------


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
    check_open_for_pledges(project.status.value, project.deadline, now)
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
        raise PledgeRefused(f"A {pledge.status.label} pledge cannot be {action}.")
    if _has_pending_payment(pledge):
        raise PledgeRefused("A payment for this pledge is still open: finish or abandon it.")


def cancel_pledge(pledge_id: int, now: datetime, seen_version: int | None = None) -> list[Refund]:
    """The backer withdraws before the deadline: a full refund, the place released.

    Decided from the pledge as it is once taken; ``seen_version`` is what the backer's page
    showed (PledgeChanged if it moved since)."""
    pledge = take_with_project(pledge_id, seen_version)
    _check_changeable(pledge, "cancelled")
    _check_change_window(pledge, pledge.total, now)
    set_status(pledge, P.REFUNDING, "Cancelled by the backer.")
    _lower_totals(pledge.project_id, pledge.total, 1)
    release_place(pledge.tier_id)
    return plan_refunds(pledge, _unrefunded(pledge), "cancelled_by_backer")


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
    """Change tier, amount or shipping. More money: a new payment; less: a refund.

    Decided from the pledge as it is once taken (see ``cancel_pledge``)."""
    pledge = take_with_project(pledge_id, seen_version)
    _check_changeable(pledge, "changed")
    project = pledge.project
    tier = _tier_of(project, terms.tier_id)
    check_amount(terms.amount, tier.minimum_amount, _max_amount(project.currency))
    shipping, country = shipping_for(tier, terms.shipping_country)
    new_total = terms.amount + shipping
    change = change_for(pledge.total, new_total)
    _check_change_window(pledge, change.refund, now)
    if tier.id != pledge.tier_id:
        claim_place(tier.id, project.id)
    if change.charge:
        return ChangePlan(
            payment=_new_payment(pledge, change.charge, tier, terms.amount, shipping, country, now)
        )
    if tier.id != pledge.tier_id:
        release_place(pledge.tier_id)
    _lower_totals(project.id, change.refund, 0)
    pledge.tier_id, pledge.amount = tier.id, terms.amount
    pledge.shipping_fee, pledge.shipping_country = shipping, country
    db.session.flush()
    refunds = plan_refunds(pledge, change.refund, "reduced_by_backer") if change.refund else []
    return ChangePlan(refunds=tuple(refunds))


def _has_pending_payment(pledge: Pledge) -> bool:
    return any(p.status is PaymentStatus.PENDING for p in pledge.payments)


# ---- webhooks' other news ---------------------------------------------------------------


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
        "refund",
        f"refund:{refund.id}",
        pledge.project_id,
        pledge.id,
        pledge.currency,
        [(ledger.escrow(pledge.project_id), ledger.backer(pledge.backer_id), amount)],
    )
    pledge.disputed = True
    db.session.flush()


def retry_refund(pledge: Pledge) -> list[Refund]:
    """An admin tries again a refund Stripe refused: new rows, with new keys."""
    pledge = take(pledge.id)  # two admins at once: the second sees the first's refund
    if pledge.refused_difference:  # a held pledge's reduction: only the difference goes back
        return plan_refunds(pledge, pledge.refused_difference, "retried_by_admin")
    if pledge.status is not P.REFUND_FAILED:
        raise PledgeRefused(f"A {pledge.status.label} pledge has no refused refund to retry.")
    if not set_status(pledge, P.REFUNDING, "Refund retried by an admin."):
        raise PledgeRefused("This pledge changed meanwhile; reload and try again.")
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
