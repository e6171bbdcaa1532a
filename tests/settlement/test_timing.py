"""The deadline to the second: what counts, what is refused, what a late scheduler decides,
and webhooks that arrive after the project has settled."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit import books as audit_books
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerTransaction
from app.payouts.models import Payout
from app.pledges import checkout
from app.pledges.domain import PledgeRefused, PledgeStatus, check_open_for_pledges
from app.pledges.models import Payment, Pledge, Refund, StripeEvent
from app.rewards.models import RewardTier
from tests.helpers import parse_forms, project_path
from tests.helpers.pledging import latest_pledge, new_backer, open_payment_of, start
from tests.helpers.settling import back, make_balance_available, ready_account, settle


def refunds_per_intent(stripe_fake) -> Counter:
    return Counter(r["payment_intent"] for r in stripe_fake.objects("refunds"))


def status_of(pledge_id: int) -> PledgeStatus:
    db.session.expire_all()
    return db.session.get(Pledge, pledge_id).status


def begin_before(clock, browser, project, stripe_fake, amount: str, seconds: int = 1):
    """A backer starts a pledge ``seconds`` before the deadline and confirms the card at
    Stripe, but the platform has not heard of it yet: the payment is still pending here."""
    clock.jump_past(project.deadline, seconds=-seconds)
    response = start(browser, project, amount=amount)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    stripe_fake.pay(payment.stripe_payment_intent_id)
    return pledge.id, payment.stripe_payment_intent_id


def test_the_deadline_is_the_first_moment_pledges_are_refused():
    deadline = datetime(2030, 1, 1, 12, tzinfo=UTC)
    check_open_for_pledges("live", deadline, deadline - timedelta(seconds=1))
    for late in (deadline, deadline + timedelta(seconds=1)):
        with pytest.raises(PledgeRefused, match="reached its deadline"):
            check_open_for_pledges("live", deadline, late)


def test_a_pledge_paid_one_second_before_the_deadline_counts(
    app, creator, project, backer, stripe_fake, clock, runner
):
    ready_account(creator, stripe_fake)
    clock.jump_past(project.deadline, seconds=-1)
    response = start(backer, project, amount="1000")  # exactly the $1,000 goal
    assert response.status_code == 302
    pledge = latest_pledge()
    stripe_fake.pay(open_payment_of(pledge.id).stripe_payment_intent_id)
    clock.jump_past(project.deadline, seconds=-1)  # the browser returns, still in time
    backer.client.get(f"/pledges/{pledge.id}/complete")
    assert status_of(pledge.id) is PledgeStatus.HELD
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (100_000, 1)

    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline, seconds=1)
    assert "paid_out" in settle(runner)
    payout = db.session.scalar(select(Payout))
    assert (payout.gross, payout.fee, payout.net) == (100_000, 5_000, 95_000)
    assert status_of(pledge.id) is PledgeStatus.COLLECTED
    assert audit_books.check() == []


def test_a_pledge_one_second_after_the_deadline_is_refused(
    app, creator, project, backer, stripe_fake, clock
):
    # The form was loaded in time (a minute before: a busy machine can take a second to answer)
    # and sent a second too late.
    clock.jump_past(project.deadline, seconds=-60)
    url = f"/projects/{project.id}/back"
    form = parse_forms(backer.client.get(url).get_data(as_text=True))
    form = next(f for f in form if f["method"] == "post" and f["action"] != "/logout")
    fields = {**form["fields"], "tier_id": str(project.tiers[0].id), "amount": "25"}
    clock.jump_past(project.deadline, seconds=1)
    response = backer.client.post(form["action"] or url, data=fields, follow_redirects=True)
    assert "no longer takes pledges" in response.get_data(as_text=True)
    # And once past the deadline, the form itself is not offered.
    response = backer.client.get(url, follow_redirects=True)
    assert response.request.path == project_path(project)
    assert "no longer takes pledges" in response.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    assert db.session.get(RewardTier, project.tiers[0].id).claimed == 0
    assert stripe_fake.requests("/v1/payment_intents", "POST") == []
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (0, 0)


def test_a_payment_started_before_the_deadline_and_completed_after_is_refunded(
    app, creator, project, backer, stripe_fake, clock, runner
):
    clock.jump_past(project.deadline, seconds=-60)
    back(app, stripe_fake, project, ["600"])
    late_id, late_intent = begin_before(clock, backer, project, stripe_fake, "500")

    clock.jump_past(project.deadline, seconds=1)  # the browser comes back a second late
    page = backer.client.get(f"/pledges/{late_id}/complete", follow_redirects=True)
    assert "closed before your payment completed" in page.get_data(as_text=True)
    assert status_of(late_id) is PledgeStatus.REFUNDED
    assert refunds_per_intent(stripe_fake) == {late_intent: 1}
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (60_000, 1)  # not counted
    assert audit_books.check() == []

    # $600 + $500 would reach the goal, but only $600 was held at the deadline.
    assert "failed, refunds planned 1, made 1, settled" in settle(runner)
    per_intent = refunds_per_intent(stripe_fake)
    assert len(per_intent) == 2 and set(per_intent.values()) == {1}  # the late one not again
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert audit_books.check() == []


def test_a_scheduler_down_across_the_deadline_settles_on_what_was_held_at_the_deadline(
    app, creator, project, stripe_fake, clock, runner
):
    ready_account(creator, stripe_fake)
    clock.jump_past(project.deadline, seconds=-3600)
    back(app, stripe_fake, project, ["700", "400"])  # $1,100 held at the deadline
    slow = new_backer(app, "slow@example.com", "Slow")
    late = new_backer(app, "late@example.com", "Late")
    slow_id, _ = begin_before(clock, slow, project, stripe_fake, "300", seconds=2)
    late_id, late_intent = begin_before(clock, late, project, stripe_fake, "200", seconds=1)
    make_balance_available(stripe_fake)

    # Nothing runs for three hours past the deadline. The slow backer's browser returns.
    clock.jump_past(project.deadline, seconds=3 * 3600)
    slow.client.get(f"/pledges/{slow_id}/complete")
    assert status_of(slow_id) is PledgeStatus.REFUNDED

    # The scheduler is back: the outcome is the one of the deadline.
    output = settle(runner)
    assert "paid_out" in output and "work left for the next run" in output  # a payment open
    payout = db.session.scalar(select(Payout))
    assert (payout.gross, payout.fee, payout.net) == (110_000, 5_500, 104_500)
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (110_000, 2)
    assert project.settled_at is None
    assert status_of(late_id) is PledgeStatus.PENDING

    # The last backer's payment is only heard of now, by its webhook: refunded, not collected.
    (event,) = [
        e
        for e in stripe_fake.events("payment_intent.succeeded")
        if e["data"]["object"]["id"] == late_intent
    ]
    assert checkout.handle_event(event["id"], event["type"], event["data"]["object"]) == "ok"
    assert status_of(late_id) is PledgeStatus.REFUNDED
    assert "paid_out, settled" in settle(runner)
    db.session.refresh(project)
    assert project.settled_at is not None
    statuses = Counter(
        db.session.scalars(select(Pledge.status).where(Pledge.project_id == project.id))
    )
    assert statuses == {PledgeStatus.COLLECTED: 2, PledgeStatus.REFUNDED: 2}
    assert len(stripe_fake.requests("/v1/transfers", "POST")) == 1
    assert set(refunds_per_intent(stripe_fake).values()) == {1}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert audit_books.check() == []


def books(project) -> tuple:
    """Everything a late webhook must leave as it is."""
    db.session.expire_all()
    db.session.refresh(project)
    return (
        project.status,
        project.pledged_amount,
        project.backer_count,
        project.settled_at,
        sorted(
            (p.id, p.status, p.disputed, p.ended_at)
            for p in db.session.scalars(select(Pledge).where(Pledge.project_id == project.id))
        ),
        sorted((r.id, r.status, r.stripe_refund_id) for r in db.session.scalars(select(Refund))),
        sorted((p.id, p.status) for p in db.session.scalars(select(Payment))),
        db.session.scalar(select(func.count()).select_from(LedgerTransaction)),
    )


@pytest.mark.parametrize("outcome", ["failed", "paid_out"])
def test_webhooks_arriving_after_settlement_change_nothing(
    app, creator, project, stripe_fake, clock, runner, outcome
):
    if outcome == "paid_out":
        ready_account(creator, stripe_fake)
        back(app, stripe_fake, project, ["600", "500"])
        make_balance_available(stripe_fake)
    else:
        back(app, stripe_fake, project, ["300", "200"])
    clock.jump_past(project.deadline)
    assert ", settled" in settle(runner)
    db.session.refresh(project)
    assert project.status.value == outcome and project.settled_at is not None
    before = books(project)
    calls = len(stripe_fake.requests("/v1/", "POST"))

    # Stripe delivers late (hours, even days), and sometimes twice.
    late = stripe_fake.events("payment_intent.succeeded") + stripe_fake.events("charge.refunded")
    assert len(late) == (2 if outcome == "paid_out" else 4)
    clock.advance(days=2)
    for event in late:
        obj = event["data"]["object"]
        assert checkout.handle_event(event["id"], event["type"], obj) == "ok"
        assert checkout.handle_event(event["id"], event["type"], obj) == "duplicate"

    assert books(project) == before
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == len(late)
    assert len(stripe_fake.requests("/v1/", "POST")) == calls  # nothing sent to Stripe
    assert settle(runner) == "Nothing to settle.\n"
    assert audit_books.check() == []
