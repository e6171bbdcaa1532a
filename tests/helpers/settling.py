"""Settlement stories: a movable clock, ready creators, pledges made for real, settling."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import stripe
from sqlalchemy import select

from app import clock as app_clock
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerTransaction
from app.payments import gateway
from app.payouts.models import ConnectedAccount, Payout, PayoutStatus
from app.pledges.domain import FINAL_STATUSES, PledgeStatus
from app.pledges.models import Payment, Pledge, Refund, RefundStatus
from tests.helpers.pledging import assert_books_balance, new_backer, pay_through_pages

WORK_LEFT = "work left for the next run"  # what settle prints when a fault left work undone


class Clock:
    """Replaces app.clock.now; tests move it forward."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self._real = app_clock.now

    def now(self):
        return self._real() + self.offset

    def advance(self, **kwargs) -> None:
        self.offset += timedelta(**kwargs)

    def jump_past(self, moment, seconds: int = 1) -> None:
        self.offset = (moment - self._real()) + timedelta(seconds=seconds)


def ready_account(user, stripe_fake, complete: bool = True) -> ConnectedAccount:
    """A connected Express account at the fake Stripe, onboarding finished (or not)."""
    user_id, email = user.id, user.email
    db.session.commit()
    account = gateway().create_account(email=email, country="US", key=f"test-acct-{user_id}")
    if complete:  # the form sent, and Stripe's checks passed at once (not on a timer)
        for step in ("complete", "verify"):
            stripe_fake.http.post(
                f"{stripe_fake.url}/_config/accounts/{account.id}/{step}", timeout=10
            ).raise_for_status()
    row = ConnectedAccount(
        user_id=user_id,
        stripe_account_id=account.id,
        details_submitted=complete,
        charges_enabled=complete,
        payouts_enabled=complete,
    )
    db.session.add(row)
    db.session.commit()
    return row


def make_balance_available(stripe_fake) -> None:
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/balance/make_available", timeout=10
    ).raise_for_status()


def back(app, stripe_fake, target, amounts: list[str]) -> None:
    """One new backer per amount pledges it to ``target`` through the real pages."""
    for i, amount in enumerate(amounts):
        browser = new_backer(app, f"backer{i}@example.com", f"Backer {i}")
        pay_through_pages(browser, stripe_fake, target, amount=amount)


def settle(runner, *args: str):
    result = runner.invoke(args=["projects", "settle", *args])
    assert result.exit_code == 0, result.output
    return result.output


# ---- settlement under faults ----------------------------------------------------------------


def funded(app, stripe_fake, creator, project, clock) -> str:
    ready_account(creator, stripe_fake)
    back(app, stripe_fake, project, ["400", "350.50", "300"])  # $1,050.50 of $1,000
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    return "paid_out"


class NetworkFault:
    """Stands in for one SDK method: its next ``count`` calls fail as a network does.

    ``reset``: the connection drops before the request reaches Stripe. ``lost``: Stripe does
    the work, then the answer is lost on the way back (a read timeout).
    """

    def __init__(self, mp, service, method: str, mode: str, count: int) -> None:
        self.real = getattr(service, method)
        self.mode = mode
        self.left = count
        self.lock = threading.Lock()
        mp.setattr(service, method, self)

    def __call__(self, *args, **kwargs):
        with self.lock:
            hit = self.left > 0
            self.left -= hit
        if hit and self.mode == "reset":
            raise stripe.APIConnectionError("Connection reset by peer (injected)")
        result = self.real(*args, **kwargs)
        if hit:
            raise stripe.APIConnectionError("Read timed out (injected, after Stripe answered)")
        return result


def pledges_of(project) -> list[Pledge]:
    db.session.expire_all()
    return list(db.session.scalars(select(Pledge).where(Pledge.project_id == project.id)))


def intents_of(project) -> dict[str, Payment]:
    return {
        p.stripe_payment_intent_id: p
        for p in db.session.scalars(
            select(Payment).join(Pledge).where(Pledge.project_id == project.id)
        )
    }


def assert_settled_exactly_once(project, stripe_fake, outcome: str) -> None:
    """Settled, each pledge in one final state, each refund or transfer made and booked once."""
    pledges = pledges_of(project)
    db.session.refresh(project)
    assert project.status.value == outcome
    assert project.settled_at is not None and project.settlement_lease_until is None
    assert all(p.status in FINAL_STATUSES for p in pledges)
    intents = intents_of(project)
    refunds = stripe_fake.objects("refunds")
    transfers = stripe_fake.objects("transfers")
    kinds = Counter(
        db.session.scalars(
            select(LedgerTransaction.kind).where(LedgerTransaction.project_id == project.id)
        )
    )
    if outcome == "failed":
        assert {p.status for p in pledges} == {PledgeStatus.REFUNDED}
        # One refund per payment at Stripe, of the whole amount, and nothing else.
        assert sorted(r["payment_intent"] for r in refunds) == sorted(intents)
        assert all(r["amount"] == intents[r["payment_intent"]].amount for r in refunds)
        assert transfers == []
        assert kinds == {"charge": len(pledges), "refund": len(pledges)}
    else:
        assert {p.status for p in pledges} == {PledgeStatus.COLLECTED}
        payout = db.session.scalar(select(Payout).where(Payout.project_id == project.id))
        assert payout.status is PayoutStatus.SUCCEEDED
        assert [(t["id"], t["amount"]) for t in transfers] == [
            (payout.stripe_transfer_id, payout.net)
        ]
        assert refunds == []
        assert kinds == {"charge": len(pledges), "payout": 1, "fee": 1}
    # Each refund Stripe made is booked on exactly one row, and every row Stripe made.
    booked = db.session.scalars(
        select(Refund.stripe_refund_id).where(Refund.status == RefundStatus.SUCCEEDED)
    )
    assert sorted(booked) == sorted(r["id"] for r in refunds)
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()
