"""The Stripe webhook: signed, deduplicated, and never moving a pledge backwards."""

import time

from sqlalchemy import func, select

from app.extensions import db
from app.pledges.models import StripeEvent
from tests.helpers.pledging import assert_books_balance, latest_pledge, open_payment_of, start
from tests.helpers.webhooks import event, post, signed


def succeeded(payment, charge="ch_1") -> dict:
    return {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": payment.amount,
        "currency": payment.currency.lower(),
        "metadata": {"pledge_id": str(payment.pledge_id), "payment_id": str(payment.id)},
        "latest_charge": charge,
    }


def test_signed_event_holds_the_pledge_once(app, client, backer, project, stripe_fake):
    start(backer, project, amount="25")
    payment = open_payment_of(latest_pledge().id)
    body, headers = signed(app, event("evt_1", "payment_intent.succeeded", succeeded(payment)))
    assert post(client, body, headers).json == {"received": True, "result": "ok"}
    assert post(client, body, headers).json["result"] == "duplicate"
    assert latest_pledge().status.value == "held"
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (2500, 1)
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1
    assert_books_balance()


def test_bad_signatures_are_refused_and_change_nothing(app, client, backer, project, stripe_fake):
    start(backer, project, amount="25")
    payment = open_payment_of(latest_pledge().id)
    payload = event("evt_2", "payment_intent.succeeded", succeeded(payment))
    body, headers = signed(app, payload)
    cases = {
        "missing": (body, {"Content-Type": "application/json"}),
        "tampered": (body.replace('"amount": 2500', '"amount": 1'), headers),
        "wrong secret": signed(app, payload, secret="whsec_other"),
        "stale": signed(app, payload, timestamp=int(time.time()) - 3600),
    }
    for name, (b, h) in cases.items():
        response = post(client, b, h)
        assert response.status_code == 400, name
        assert "signature" in response.get_data(as_text=True)
    assert latest_pledge().status.value == "pending"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_webhook_needs_no_csrf_but_everything_else_does(app, client):
    body, headers = signed(app, event("evt_3", "customer.created", {"id": "cus_1"}))
    assert post(client, body, headers).json["result"] == "ignored"


def test_late_failure_event_does_not_undo_a_success(app, client, backer, project, stripe_fake):
    start(backer, project, amount="25")
    payment = open_payment_of(latest_pledge().id)
    for event_id, type_, obj in [
        ("evt_ok", "payment_intent.succeeded", succeeded(payment)),
        (
            "evt_old_fail",
            "payment_intent.payment_failed",
            {
                "id": payment.stripe_payment_intent_id,
                "object": "payment_intent",
                "last_payment_error": {"message": "Your card was declined."},
            },
        ),
    ]:
        post(client, *signed(app, event(event_id, type_, obj)))
    assert latest_pledge().status.value == "held"
    assert open_payment_of(latest_pledge().id).status.value == "succeeded"


def test_dispute_flags_the_pledge(app, client, backer, project, stripe_fake):
    from tests.helpers.pledging import pay_through_pages

    pledge, _ = pay_through_pages(backer, stripe_fake, project)
    payment = open_payment_of(pledge.id)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": payment.stripe_charge_id,
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": payment.amount,
    }
    post(client, *signed(app, event("evt_dp", "charge.dispute.created", dispute)))
    assert latest_pledge().disputed is True


def test_real_deliveries_from_the_fake_stripe(app, backer, project, stripe_fake):
    """The fake server signs and sends its own events to a live server of ours."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stripe_fake.register_webhook(
            f"http://127.0.0.1:{server.port}/stripe/webhook", app.config["STRIPE_WEBHOOK_SECRET"]
        )
        start(backer, project, amount="25")
        pledge = latest_pledge()
        payment = open_payment_of(pledge.id)
        db.session.commit()
        stripe_fake.pay(payment.stripe_payment_intent_id)  # no browser return at all
        for _ in range(50):
            if latest_pledge().status.value == "held":
                break
            time.sleep(0.1)
        assert latest_pledge().status.value == "held"
        db.session.commit()
    finally:
        server.shutdown()
        server.server_close()
    assert_books_balance()


def test_refunds_reported_by_stripe_are_booked_once(app, client, backer, project, stripe_fake):
    """Our own refund arrives again by webhook: nothing more. One made in Stripe's dashboard:
    booked, and the pledge flagged for moderators. As since API version 2022-11-15, the
    charge.refunded event carries no list of refunds: the platform lists them from Stripe."""
    from tests.helpers.pledging import pay_through_pages

    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    backer.submit(f"/pledges/{pledge.id}/cancel")
    payment = open_payment_of(pledge.id)
    charge = {
        "id": payment.stripe_charge_id,
        "object": "charge",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount_refunded": 2500,
    }
    post(client, *signed(app, event("evt_r1", "charge.refunded", charge)))
    assert len(latest_pledge().refunds) == 1
    assert_books_balance()

    other, _ = pay_through_pages(backer, stripe_fake, project, amount="30")
    payment = open_payment_of(other.id)
    dashboard = stripe_fake.http.post(  # a refund made in Stripe's dashboard, not by us
        f"{stripe_fake.url}/v1/refunds",
        auth=("sk_test_offline", ""),
        timeout=10,
        data={"payment_intent": payment.stripe_payment_intent_id, "amount": 1000},
    ).json()
    outside = {
        "id": payment.stripe_charge_id,
        "object": "charge",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount_refunded": 1000,
    }
    post(client, *signed(app, event("evt_r2", "charge.refunded", outside)))
    post(client, *signed(app, event("evt_r3", "refund.updated", dashboard)))  # and again
    flagged = latest_pledge()
    assert flagged.disputed is True
    assert flagged.net_collected == 2000
    from app.accounts.models import Role
    from tests.helpers import Browser, gen_user

    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    moderator = Browser(app.test_client())
    moderator.login("mo@example.com")
    page = moderator.client.get("/moderation/").get_data(as_text=True)
    assert f"#{flagged.id}" in page and "disputed" in page
    review = moderator.client.get(f"/moderation/projects/{project.id}").get_data(as_text=True)
    assert f"refund (refund:{flagged.refunds[0].id})" in review


def test_stripe_down_while_listing_refunds_answers_503_and_the_retry_books(
    app, client, backer, project, stripe_fake
):
    """charge.refunded needs a call to Stripe (the event has no refunds list). If that call
    fails, the webhook answers 503 and forgets the event, so Stripe's retry books it."""
    from tests.helpers.pledging import pay_through_pages

    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="30")
    payment = open_payment_of(pledge.id)
    stripe_fake.http.post(  # a refund made in Stripe's dashboard
        f"{stripe_fake.url}/v1/refunds",
        auth=("sk_test_offline", ""),
        timeout=10,
        data={"payment_intent": payment.stripe_payment_intent_id, "amount": 1000},
    ).raise_for_status()
    charge = {
        "id": payment.stripe_charge_id,
        "object": "charge",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount_refunded": 1000,
    }
    delivery = signed(app, event("evt_down", "charge.refunded", charge))
    stripe_fake.fault("/v1/refunds", status=500, count=1, method="GET")
    answer = post(client, *delivery)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert latest_pledge().refunds == []
    assert db.session.get(StripeEvent, "evt_down") is None  # not remembered as handled
    again = post(client, *delivery)
    assert again.status_code == 200 and again.json["result"] == "ok"
    assert [r.amount for r in latest_pledge().refunds] == [1000]
    assert latest_pledge().disputed is True  # a refund made outside: flagged for moderators
