"""Changing and cancelling a held pledge, and the refunds that follow, Stripe in memory."""

from datetime import timedelta

import pytest

from app import clock as app_clock
from app.extensions import db
from app.ledger import services as ledger
from app.payments.gateway import CardError
from app.pledges import checkout
from app.pledges.domain import PledgeRefused, PledgeStatus
from app.pledges.models import PaymentStatus, RefundStatus
from app.pledges.services import Terms
from tests.fast.support import payments_of, refunds_of, reread
from tests.helpers.pledging import assert_books_balance


def test_an_increase_charges_the_difference_as_a_new_payment(project, stripe_memory, pledge_paid):
    pledge = pledge_paid(project, amount=2500)
    changed = checkout.begin_change(pledge.id, Terms(project.tiers[1].id, 4000))
    first, extra = payments_of(pledge.id)
    assert changed.payment_id == extra.id
    assert (extra.amount, extra.status) == (1500, PaymentStatus.PENDING)
    assert reread(pledge).amount == 2500  # unchanged until the payment succeeds
    created = stripe_memory.calls_to("create_payment_intent")[-1]
    assert (created.params["amount"], created.key) == (1500, extra.idempotency_key)
    assert created.key != first.idempotency_key

    stripe_memory.pay(extra.stripe_payment_intent_id)
    assert checkout.confirm(extra.id).status == "held"
    pledge = reread(pledge)
    assert (pledge.amount, pledge.tier_id, pledge.status) == (
        4000,
        project.tiers[1].id,
        PledgeStatus.HELD,
    )
    project = reread(project)
    assert (project.pledged_amount, project.backer_count) == (4000, 1)
    assert (project.tiers[0].claimed, project.tiers[1].claimed) == (0, 1)
    assert ledger.balance(ledger.escrow(project.id)) == 4000
    assert_books_balance()


def test_a_decrease_refunds_the_difference(project, stripe_memory, pledge_paid):
    pledge = pledge_paid(project, amount=5000)
    changed = checkout.begin_change(pledge.id, Terms(project.tiers[0].id, 3000))
    assert [r.status for r in changed.refunds] == ["succeeded"]
    (refund,) = refunds_of(pledge.id)
    assert (refund.amount, refund.status) == (2000, RefundStatus.SUCCEEDED)
    (call,) = stripe_memory.calls_to("create_refund")
    assert (call.params["amount"], call.key) == (2000, refund.idempotency_key)
    assert call.params["metadata"]["refund_id"] == str(refund.id)
    assert stripe_memory.refunds[refund.stripe_refund_id].amount == 2000
    pledge = reread(pledge)
    assert (pledge.status, pledge.amount) == (PledgeStatus.HELD, 3000)
    assert reread(project).pledged_amount == 3000
    assert ledger.balance(ledger.escrow(project.id)) == 3000
    assert ledger.balance(ledger.backer(pledge.backer_id)) == -3000
    assert_books_balance()


def test_cancel_refunds_in_full_and_releases_the_place(project, stripe_memory, pledge_paid):
    pledge = pledge_paid(project, amount=2500)
    checkout.cancel(pledge.id)
    assert reread(pledge).status is PledgeStatus.REFUNDED
    (refund,) = refunds_of(pledge.id)
    (made,) = stripe_memory.refunds.values()
    assert (made.id, made.amount, refund.status) == (
        refund.stripe_refund_id,
        2500,
        RefundStatus.SUCCEEDED,
    )
    assert stripe_memory.calls_to("create_refund")[0].key == refund.idempotency_key
    project = reread(project)
    assert (project.pledged_amount, project.backer_count, project.tiers[0].claimed) == (0, 0, 0)
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert ledger.balance(ledger.backer(pledge.backer_id)) == 0
    assert_books_balance()


def test_cancel_after_an_increase_refunds_both_payments(project, stripe_memory, pledge_paid):
    pledge = pledge_paid(project, amount=2500)
    changed = checkout.begin_change(pledge.id, Terms(project.tiers[0].id, 4000))
    extra = payments_of(pledge.id)[-1]
    stripe_memory.pay(extra.stripe_payment_intent_id)
    checkout.confirm(changed.payment_id)
    checkout.cancel(pledge.id)
    assert reread(pledge).status is PledgeStatus.REFUNDED
    by_intent = {r.payment_intent: r.amount for r in stripe_memory.refunds.values()}
    assert by_intent == {p.stripe_payment_intent_id: p.amount for p in payments_of(pledge.id)}
    assert sorted(by_intent.values()) == [1500, 2500]
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_no_cancel_in_the_last_day_of_a_funded_project(project, stripe_memory, pledge_paid):
    project.goal_amount = 5000
    db.session.commit()
    pledge = pledge_paid(project, amount=3000)
    pledge_paid(project, amount=2500)  # 55 of 50: funded
    project.deadline = app_clock.now() + timedelta(hours=23)
    db.session.commit()
    with pytest.raises(PledgeRefused, match="last 24 hours"):
        checkout.cancel(pledge.id)
    assert reread(pledge).status is PledgeStatus.HELD
    assert stripe_memory.calls_to("create_refund") == []
    assert ledger.balance(ledger.escrow(project.id)) == 5500


def test_a_refund_stripe_refuses_waits_for_an_admin_with_the_money_in_escrow(
    project, stripe_memory, pledge_paid
):
    pledge = pledge_paid(project, amount=2500)
    stripe_memory.fail("create_refund", CardError("Refund refused.", "charge_disputed", status=400))
    assert [r.status for r in checkout.cancel(pledge.id)] == ["refused"]
    (refused,) = refunds_of(pledge.id)
    assert reread(pledge).status is PledgeStatus.REFUND_FAILED
    assert (refused.status, refused.failure_message) == (RefundStatus.FAILED, "Refund refused.")
    assert stripe_memory.refunds == {}
    assert ledger.balance(ledger.escrow(project.id)) == 2500
    assert_books_balance()

    checkout.retry_refused_refund(pledge.id)  # an admin retries: a new row with a new key
    first, retried = refunds_of(pledge.id)
    assert retried.status is RefundStatus.SUCCEEDED
    assert [c.key for c in stripe_memory.calls_to("create_refund")] == [
        first.idempotency_key,
        retried.idempotency_key,
    ]
    assert first.idempotency_key != retried.idempotency_key
    assert reread(pledge).status is PledgeStatus.REFUNDED
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_a_refund_stripe_did_not_answer_is_made_by_the_sweep_with_the_same_key(
    project, stripe_memory, pledge_paid
):
    pledge = pledge_paid(project, amount=2500)
    stripe_memory.fail("create_refund")  # never reached Stripe
    assert [r.status for r in checkout.cancel(pledge.id)] == ["retry"]
    (refund,) = refunds_of(pledge.id)
    assert (refund.status, refund.attempts) == (RefundStatus.PENDING, 1)
    assert reread(pledge).status is PledgeStatus.REFUNDING
    assert ledger.balance(ledger.escrow(project.id)) == 2500

    assert checkout.resume_refunds() == 1
    assert reread(refund).status is RefundStatus.SUCCEEDED
    keys = [c.key for c in stripe_memory.calls_to("create_refund")]
    assert keys == [refund.idempotency_key] * 2
    assert len(stripe_memory.refunds) == 1
    assert reread(pledge).status is PledgeStatus.REFUNDED
    assert ledger.balance(ledger.escrow(project.id)) == 0


def test_a_refund_whose_answer_was_lost_is_replayed_not_made_twice(
    project, stripe_memory, pledge_paid
):
    pledge = pledge_paid(project, amount=2500)
    stripe_memory.fail("create_refund", after=True)  # made at Stripe, the answer lost
    checkout.cancel(pledge.id)
    assert len(stripe_memory.refunds) == 1
    assert refunds_of(pledge.id)[0].status is RefundStatus.PENDING
    checkout.resume_refunds()
    (refund,) = refunds_of(pledge.id)
    (made,) = stripe_memory.refunds.values()
    assert (refund.status, refund.stripe_refund_id) == (RefundStatus.SUCCEEDED, made.id)
    intent = stripe_memory.intents[made.payment_intent]
    assert intent.amount_refunded == 2500  # refunded once
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_a_pending_refund_is_booked_when_stripe_says_it_succeeded(
    project, stripe_memory, pledge_paid
):
    pledge = pledge_paid(project, amount=2500)
    stripe_memory.refunds_pending = True
    assert [r.status for r in checkout.cancel(pledge.id)] == ["pending"]
    (refund,) = refunds_of(pledge.id)
    assert refund.status is RefundStatus.PROCESSING
    assert ledger.balance(ledger.escrow(project.id)) == 2500  # not booked while pending

    stripe_memory.settle_refund(refund.stripe_refund_id)
    event = stripe_memory.refund_payload(refund.stripe_refund_id)
    checkout.handle_event("evt_refund", "refund.updated", event)
    assert reread(refund).status is RefundStatus.SUCCEEDED
    assert reread(pledge).status is PledgeStatus.REFUNDED
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()
