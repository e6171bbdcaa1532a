"""A backer pledges by card; the money is held in escrow and booked in the ledger."""

from sqlalchemy import func, select

from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry
from app.pledges.models import Pledge
from tests.helpers import project_path
from tests.helpers.pledging import (
    assert_books_balance,
    latest_pledge,
    new_backer,
    open_payment_of,
    pay_through_pages,
    start,
)


def test_card_pledge_is_held_in_escrow(app, backer, project, stripe_fake):
    response = start(backer, project, amount="25")
    pledge = latest_pledge()
    assert response.headers["Location"] == f"/pledges/{pledge.id}/pay"
    payment = open_payment_of(pledge.id)
    assert (pledge.status.value, payment.amount, payment.currency) == ("pending", 2500, "USD")

    page = backer.client.get(f"/pledges/{pledge.id}/pay").get_data(as_text=True)
    assert f'data-client-secret="{payment.client_secret}"' in page
    assert f"{stripe_fake.url}/js.stripe.com/v3/" in page  # Stripe.js from the fake server

    stripe_fake.pay(payment.stripe_payment_intent_id)
    done = backer.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    assert "Your pledge is in." in done.get_data(as_text=True)
    pledge = latest_pledge()
    assert pledge.status.value == "held"
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (2500, 1)
    assert project.tiers[0].claimed == 1
    assert ledger.balance(ledger.escrow(project.id)) == 2500
    assert ledger.balance(ledger.backer(pledge.backer_id)) == -2500
    assert_books_balance()

    # What Stripe was asked: one PaymentIntent, with our key, metadata and transfer group.
    created = stripe_fake.requests("/v1/payment_intents", "POST")
    creates = [r for r in created if r["path"] == "/v1/payment_intents"]
    assert len(creates) == 1
    params = creates[0]["params"]
    assert creates[0]["idempotency_key"] == payment.idempotency_key
    assert (int(params["amount"]), params["currency"]) == (2500, "usd")
    assert params["transfer_group"] == f"project-{project.id}"
    assert params["metadata"]["pledge_id"] == str(pledge.id)
    assert params["customer"].startswith("cus_")

    page = backer.client.get(project_path(project)).get_data(as_text=True)
    assert "$25.00" in page


def test_return_page_and_webhook_count_the_payment_once(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="30")
    # The return page again (reload), and the webhook event replayed by hand:
    backer.client.get(f"/pledges/{pledge.id}/complete")
    from app.pledges import checkout

    payment = open_payment_of(pledge.id)
    checkout.record_intent(payment.id, "succeeded", "ch_dup")
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (3000, 1)
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries == 2
    assert_books_balance()


def test_declined_card_keeps_the_pledge_open_for_another_card(app, backer, project, stripe_fake):
    start(backer, project, amount="25")
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    stripe_fake.pay(payment.stripe_payment_intent_id, "pm_card_chargeDeclined")
    done = backer.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    assert "Your card was declined." in done.get_data(as_text=True)
    assert latest_pledge().status.value == "pending"
    assert open_payment_of(pledge.id).failure_message == "Your card was declined."
    # Another card works on the same PaymentIntent.
    stripe_fake.pay(payment.stripe_payment_intent_id, "pm_card_visa")
    backer.client.get(f"/pledges/{pledge.id}/complete")
    assert latest_pledge().status.value == "held"
    assert_books_balance()


def test_insufficient_funds(app, backer, project, stripe_fake):
    _, done = pay_through_pages(
        backer, stripe_fake, project, card="pm_card_chargeDeclinedInsufficientFunds"
    )
    assert "Your card has insufficient funds." in done.get_data(as_text=True)
    assert latest_pledge().status.value == "pending"
    assert ledger.balance(ledger.escrow(latest_pledge().project_id)) == 0


def test_three_d_secure(app, backer, project, stripe_fake):
    start(backer, project, amount="25")
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    intent = stripe_fake.pay(payment.stripe_payment_intent_id, "pm_card_authenticationRequired")
    assert intent["status"] == "requires_action"
    done = backer.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    assert "being processed" in done.get_data(as_text=True)
    assert latest_pledge().status.value == "pending"
    stripe_fake.authenticate(payment.stripe_payment_intent_id, payment.client_secret)
    backer.client.get(f"/pledges/{pledge.id}/complete")
    assert latest_pledge().status.value == "held"


def test_abandoning_releases_the_place_and_cancels_the_intent(app, backer, project, stripe_fake):
    limited = project.tiers[1]
    limited.quantity_limit = 1
    db.session.commit()
    start(backer, project, tier=limited, amount="20")
    pledge = latest_pledge()
    db.session.refresh(limited)
    assert limited.claimed == 1 and limited.sold_out
    backer.submit(f"/pledges/{pledge.id}/pay", action=f"/pledges/{pledge.id}/abandon")
    pledge = latest_pledge()
    assert pledge.status.value == "failed"
    db.session.refresh(limited)
    assert limited.claimed == 0
    cancels = [
        r
        for r in stripe_fake.requests("/v1/payment_intents", "POST")
        if r["path"].endswith("/cancel")
    ]
    assert len(cancels) == 1


def test_expired_reservation_is_swept(app, backer, project, stripe_fake, runner):
    from datetime import timedelta

    from app import clock

    start(backer, project, amount="25")
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    payment.expires_at = clock.now() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["pledges", "sweep"])
    assert "1 expired payment(s) closed" in result.output
    pledge = latest_pledge()
    assert pledge.status.value == "failed"
    assert pledge.end_reason == "The payment was not completed in time."
    db.session.refresh(project)
    assert project.tiers[0].claimed == 0


def test_a_backer_cannot_have_two_open_pledges(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project)
    response = backer.client.get(f"/projects/{project.id}/back")
    assert response.headers["Location"] == f"/pledges/{pledge.id}"
    count = db.session.scalar(select(func.count()).select_from(Pledge))
    assert count == 1


def test_many_backers_add_up(app, project, stripe_fake):
    for i, amount in enumerate(["10", "15.50", "99.99"]):
        browser = new_backer(app, f"b{i}@example.com", f"B{i}")
        pay_through_pages(browser, stripe_fake, project, amount=amount)
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (12549, 3)
    assert ledger.balance(ledger.escrow(project.id)) == 12549
    assert_books_balance()


def test_retrying_with_the_stored_key_replays_the_same_intent(app, backer, project, stripe_fake):
    """A retry after a lost response (same idempotency key) gets the same PaymentIntent."""
    from app.payments import gateway

    start(backer, project, amount="25")
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    params = dict(
        amount=payment.amount,
        currency="USD",
        customer=pledge.backer.stripe_customer_id,
        metadata={
            "pledge_id": str(pledge.id),
            "payment_id": str(payment.id),
            "project_id": str(project.id),
        },
        transfer_group=f"project-{project.id}",
        description=f"Pledge {pledge.id} to {project.title}",
        key=payment.idempotency_key,
    )
    intent_id = payment.stripe_payment_intent_id
    db.session.commit()
    replay = gateway().create_payment_intent(**params)
    assert replay.id == intent_id
    creates = [
        r
        for r in stripe_fake.requests("/v1/payment_intents", "POST")
        if r["path"] == "/v1/payment_intents"
    ]
    assert {r["idempotency_key"] for r in creates} == {payment.idempotency_key}
    listed = stripe_fake.http.get(
        f"{stripe_fake.url}/v1/payment_intents", auth=("sk_test_offline", ""), timeout=10
    ).json()["data"]
    assert len(listed) == 1
