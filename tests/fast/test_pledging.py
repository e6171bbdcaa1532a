"""Pledging by card through the checkout workflow, Stripe in memory: what the rows, the ledger
and Stripe's calls show."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock as app_clock
from app.accounts.models import User
from app.extensions import db
from app.ledger import services as ledger
from app.pledges import checkout
from app.pledges.domain import PledgeRefused, PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, RefundStatus
from app.pledges.services import Terms
from tests.fast.support import payments_of, refunds_of, reread
from tests.helpers.pledging import assert_books_balance


def test_a_paid_pledge_is_held_in_escrow_and_booked(project, stripe_memory, pledge_paid):
    pledge = pledge_paid(project, amount=2500)
    assert pledge.status is PledgeStatus.HELD
    (payment,) = payments_of(pledge.id)
    intent = stripe_memory.intents[payment.stripe_payment_intent_id]
    assert (payment.status, payment.stripe_charge_id) == (PaymentStatus.SUCCEEDED, intent.charge_id)
    project = reread(project)
    assert (project.pledged_amount, project.backer_count, project.tiers[0].claimed) == (2500, 1, 1)
    assert ledger.balance(ledger.escrow(project.id)) == 2500
    assert ledger.balance(ledger.backer(pledge.backer_id)) == -2500
    assert_books_balance()

    # What Stripe was asked: a customer for the backer, then one PaymentIntent with our key.
    backer = db.session.get(User, pledge.backer_id)
    (customer,) = stripe_memory.calls_to("create_customer")
    assert customer.params["email"] == backer.email
    (created,) = stripe_memory.calls_to("create_payment_intent")
    assert created.key == payment.idempotency_key
    assert created.params["customer"] == backer.stripe_customer_id == intent.customer
    assert (created.params["amount"], created.params["currency"]) == (2500, "usd")
    assert created.params["transfer_group"] == f"project-{project.id}"
    assert created.params["metadata"]["pledge_id"] == str(pledge.id)
    assert created.params["metadata"]["payment_id"] == str(payment.id)


def test_a_second_pledge_reuses_the_backers_stripe_customer(
    creator, project, stripe_memory, pledge_paid, new_backer
):
    from tests.helpers import gen_project

    other = gen_project(creator, "live", title="Sun Lamp")
    backer_id = new_backer()
    pledge_paid(project, backer=backer_id)
    pledge_paid(other, backer=backer_id)
    assert len(stripe_memory.calls_to("create_customer")) == 1
    customers = {c.params["customer"] for c in stripe_memory.calls_to("create_payment_intent")}
    assert customers == {db.session.get(User, backer_id).stripe_customer_id}


def test_the_return_page_again_and_the_webhook_count_the_payment_once(
    project, stripe_memory, pledge_paid
):
    pledge = pledge_paid(project, amount=3000)
    (payment,) = payments_of(pledge.id)
    checkout.confirm(payment.id)  # the backer reloads the return page
    event = stripe_memory.intent_payload(payment.stripe_payment_intent_id)
    for _ in range(2):  # Stripe delivers the event twice
        checkout.handle_event("evt_1", "payment_intent.succeeded", event)
    checkout.handle_event("evt_2", "payment_intent.succeeded", event)  # and a look-alike
    project = reread(project)
    assert (project.pledged_amount, project.backer_count) == (3000, 1)
    assert [t.kind for t in ledger.transactions_of(project.id)] == ["charge"]
    assert ledger.balance(ledger.escrow(project.id)) == 3000
    assert_books_balance()


def test_a_declined_card_keeps_the_pledge_open_for_another_card(
    project, stripe_memory, pledge_paid
):
    pledge = pledge_paid(project, card="pm_card_chargeDeclined")
    (payment,) = payments_of(pledge.id)
    assert pledge.status is PledgeStatus.PENDING
    assert (payment.status, payment.failure_message) == (
        PaymentStatus.PENDING,
        "Your card was declined.",
    )
    assert reread(project).tiers[0].claimed == 1  # the place waits for another card
    assert ledger.transactions_of(project.id) == []

    stripe_memory.pay(payment.stripe_payment_intent_id, "pm_card_visa")
    assert checkout.confirm(payment.id).status == "held"
    assert reread(pledge).status is PledgeStatus.HELD
    assert ledger.balance(ledger.escrow(project.id)) == 2500
    assert len(stripe_memory.intents) == 1  # the same intent, confirmed again


def test_three_d_secure_is_held_once_authenticated(project, stripe_memory, pledge_paid):
    pledge = pledge_paid(project, card="pm_card_authenticationRequired")
    (payment,) = payments_of(pledge.id)
    assert checkout.confirm(payment.id).status == "processing"
    assert pledge.status is PledgeStatus.PENDING and ledger.transactions_of(project.id) == []
    stripe_memory.authenticate(payment.stripe_payment_intent_id)
    assert checkout.confirm(payment.id).status == "held"
    assert ledger.balance(ledger.escrow(project.id)) == 2500


def test_stripe_unreachable_refuses_the_pledge_and_frees_the_place(
    project, stripe_memory, new_backer
):
    backer_id = new_backer()
    stripe_memory.fail("create_payment_intent")
    with pytest.raises(PledgeRefused, match="could not reach the payment provider"):
        checkout.begin_pledge(backer_id, project.id, Terms(project.tiers[0].id, 2500))
    pledge = db.session.scalar(select(Pledge))
    (payment,) = payments_of(pledge.id)
    assert (pledge.status, payment.status) == (PledgeStatus.FAILED, PaymentStatus.FAILED)
    assert payment.stripe_payment_intent_id is None and stripe_memory.intents == {}
    assert reread(project).tiers[0].claimed == 0
    # The customer Stripe made before the failure is kept, so a retry does not make another.
    assert db.session.get(User, backer_id).stripe_customer_id in stripe_memory.customers
    assert ledger.transactions_of(project.id) == []


def test_an_expired_reservation_is_swept_and_its_intent_cancelled(
    project, stripe_memory, new_backer, clock
):
    started = checkout.begin_pledge(new_backer(), project.id, Terms(project.tiers[0].id, 2500))
    payment = db.session.get(Payment, started.payment_id)
    clock.jump_past(payment.expires_at)
    assert checkout.sweep_expired_payments() == 1
    (cancelled,) = stripe_memory.calls_to("cancel_payment_intent")
    assert cancelled.params["id"] == payment.stripe_payment_intent_id
    assert stripe_memory.intents[payment.stripe_payment_intent_id].status == "canceled"
    assert reread(payment).status is PaymentStatus.FAILED
    assert db.session.get(Pledge, started.pledge_id).status is PledgeStatus.FAILED
    assert reread(project).tiers[0].claimed == 0


def test_a_payment_completing_after_the_deadline_is_refunded_in_full(
    project, stripe_memory, new_backer
):
    started = checkout.begin_pledge(new_backer(), project.id, Terms(project.tiers[0].id, 2500))
    payment = db.session.get(Payment, started.payment_id)
    project.deadline = app_clock.now() - timedelta(seconds=1)  # the deadline passes meanwhile
    db.session.commit()
    stripe_memory.pay(payment.stripe_payment_intent_id)
    assert checkout.confirm(started.payment_id).status == "too_late"
    pledge = db.session.get(Pledge, started.pledge_id)
    assert pledge.status is PledgeStatus.REFUNDED
    (refund,) = refunds_of(pledge.id)
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, 2500)
    (made,) = stripe_memory.refunds.values()
    assert (made.id, made.amount) == (refund.stripe_refund_id, 2500)
    assert made.payment_intent == payment.stripe_payment_intent_id
    project = reread(project)
    assert (project.pledged_amount, project.backer_count, project.tiers[0].claimed) == (0, 0, 0)
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()
