"""Idempotency keys, events and webhooks, fault injection, the request log, no pickle dump."""

import os

import pytest
import stripe

PICKLE = "/tmp/localstripe.pickle"  # noqa: S108 (the path stock localstripe writes)


def test_same_idempotency_key_replays_the_first_response(sdk, fake):
    params = {"amount": 1000, "currency": "usd", "transfer_group": "project_1"}
    first = sdk.v1.payment_intents.create(params, {"idempotency_key": "pledge-1-charge"})
    again = sdk.v1.payment_intents.create(params, {"idempotency_key": "pledge-1-charge"})
    assert again.id == first.id
    assert [pi.id for pi in sdk.v1.payment_intents.list().data] == [first.id]

    raw = fake.call(
        "POST",
        "/v1/payment_intents",
        params,
        headers={"Idempotency-Key": "pledge-1-charge"},
    )
    assert raw.json()["id"] == first.id and raw.headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.IdempotencyError) as caught:
        sdk.v1.payment_intents.create(
            {**params, "amount": 2000}, {"idempotency_key": "pledge-1-charge"}
        )
    assert caught.value.http_status == 400
    assert caught.value.user_message.startswith(
        "Keys for idempotent requests can only be used with the same parameters"
    )
    assert len(sdk.v1.payment_intents.list().data) == 1

    fake.call("DELETE", "/_config/data")
    fresh = sdk.v1.payment_intents.create(params, {"idempotency_key": "pledge-1-charge"})
    assert fresh.id != first.id


def test_a_declined_payment_is_replayed_not_charged_again(sdk, card):
    pm = card("4000000000009995").id
    params = {"amount": 500, "currency": "usd", "payment_method": pm, "confirm": True}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as caught:
            sdk.v1.payment_intents.create(params, {"idempotency_key": "pledge-2"})
        errors.append(caught.value.error.payment_intent.id)
    assert errors[0] == errors[1]
    assert len(sdk.v1.charges.list().data) == 1


def test_transfers_and_refunds_are_idempotent_too(sdk, fake, pay):
    pi = pay(amount=800)
    keyed = {"idempotency_key": "refund-pledge-3"}
    first = sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 300}, keyed)
    again = sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 300}, keyed)
    assert first.id == again.id
    assert sdk.v1.charges.retrieve(pi.latest_charge).amount_refunded == 300


def signed_events(webhooks, types):
    """Wait for deliveries of all types and check each one's Stripe-Signature."""
    webhooks.wait_for(lambda events: types <= {e["type"] for e in events})
    verified = []
    for body, signature in list(webhooks.deliveries):
        verified.append(stripe.Webhook.construct_event(body.decode(), signature, webhooks.secret))
    return {e.type: e for e in verified}


def test_refund_and_transfer_events_reach_webhooks_signed(sdk, fake, webhooks, pay):
    pi = pay(amount=1200)
    refund = sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 200})
    sdk.v1.refunds.update(refund.id, {"metadata": {"reason_code": "campaign_failed"}})
    account = sdk.v1.accounts.create({"type": "express", "email": "c@example.com"})
    fake.json("POST", f"/_config/accounts/{account.id}/complete")
    fake.json("POST", "/_config/balance", {"available[usd]": 1000})
    transfer = sdk.v1.transfers.create(
        {"amount": 600, "currency": "usd", "destination": account.id, "transfer_group": "p1"}
    )
    sdk.v1.transfers.reversals.create(transfer.id, {"amount": 100})

    types = {
        "payment_intent.succeeded",
        "charge.refunded",
        "refund.created",
        "refund.updated",
        "account.updated",
        "transfer.created",
        "transfer.reversed",
    }
    events = signed_events(webhooks, types)
    assert events["charge.refunded"].data.object.id == pi.latest_charge
    assert events["charge.refunded"].data.object.amount_refunded == 200
    assert events["refund.created"].data.object.id == refund.id
    assert events["refund.updated"].data.object.metadata.reason_code == "campaign_failed"
    assert events["account.updated"].data.object.details_submitted is True  # checks to come
    assert events["transfer.created"].data.object.transfer_group == "p1"
    assert events["transfer.reversed"].data.object.amount_reversed == 100
    with pytest.raises(stripe.SignatureVerificationError):
        body, signature = webhooks.deliveries[0]
        stripe.Webhook.construct_event(body.decode(), signature, "whsec_wrong")

    listed = sdk.v1.events.list({"limit": 100}).data
    assert types <= {e.type for e in listed}
    assert listed[0].created >= listed[-1].created
    one = sdk.v1.events.retrieve(events["transfer.created"].id)
    assert one.data.object.id == transfer.id
    only = sdk.v1.events.list({"type": "refund.created"}).data
    assert [e.data.object.id for e in only] == [refund.id]


def test_failed_payment_and_3ds_failure_events(sdk, fake, webhooks, card):
    pi = sdk.v1.payment_intents.create({"amount": 900, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4000000000000002").id})
    event = signed_events(webhooks, {"payment_intent.payment_failed"})[
        "payment_intent.payment_failed"
    ]
    assert event.data.object.last_payment_error.decline_code == "generic_decline"


def test_faults_answer_the_next_matching_calls(sdk, fake):
    fault = {"path": "/v1/payment_intents", "method": "POST", "status": 429, "count": 2}
    fake.json("POST", "/_config/faults", fault)
    params = {"amount": 1000, "currency": "usd"}
    for _ in range(2):
        with pytest.raises(stripe.RateLimitError) as caught:
            sdk.v1.payment_intents.create(params)
        assert caught.value.http_status == 429 and caught.value.error.code == "rate_limit"
    sdk.v1.balance.retrieve()  # other paths are not affected
    assert sdk.v1.payment_intents.create(params).status == "requires_payment_method"

    fake.json("POST", "/_config/faults", {"path": "/v1/transfers", "status": 500, "count": 5})
    assert len(fake.json("GET", "/_config/faults")) == 1
    with pytest.raises(stripe.APIError) as caught:
        sdk.v1.transfers.list()
    assert caught.value.http_status == 500
    assert fake.call("DELETE", "/_config/faults").status_code == 200
    assert fake.json("GET", "/_config/faults") == []
    assert sdk.v1.transfers.list().data == []
    statuses = [(r["method"], r["path"], r["status"]) for r in fake.requests_log()]
    assert statuses[:3] == [("POST", "/v1/payment_intents", 429)] * 2 + [
        ("GET", "/v1/balance", 200)
    ]
    # Injected faults do not consume idempotency keys: the retry runs for real.
    fake.json("POST", "/_config/faults", {"path": "/v1/payment_intents", "status": 500})
    with pytest.raises(stripe.APIError):
        sdk.v1.payment_intents.create(params, {"idempotency_key": "retry-me"})
    sdk.v1.payment_intents.create(params, {"idempotency_key": "retry-me"})
    assert len(sdk.v1.payment_intents.list().data) == 2


def test_request_log_lists_the_api_calls(sdk, fake):
    pi = sdk.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", "metadata": {"pledge_id": "9"}},
        {"idempotency_key": "pledge-9"},
    )
    sdk.v1.payment_intents.retrieve(pi.id)
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.refunds.create({"payment_intent": pi.id})

    log = fake.requests_log()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v1/payment_intents", 200),
        ("GET", f"/v1/payment_intents/{pi.id}", 200),
        ("POST", "/v1/refunds", 400),
    ]
    assert log[0]["idempotency_key"] == "pledge-9"
    assert log[0]["params"] == {"amount": "1000", "currency": "usd", "metadata": {"pledge_id": "9"}}
    assert log[2]["params"] == {"payment_intent": pi.id}
    assert log[2]["idempotency_key"]  # the SDK's own key

    fake.call("DELETE", "/_config/data")
    assert fake.requests_log() == []


def test_no_pickle_dump_on_writes(sdk, pay):
    before = os.stat(PICKLE).st_mtime_ns if os.path.exists(PICKLE) else None
    for _ in range(3):
        pay()
    sdk.v1.customers.create({"email": "x@example.com"})
    after = os.stat(PICKLE).st_mtime_ns if os.path.exists(PICKLE) else None
    assert after == before


def test_cors_preflight_is_answered(fake):
    headers = {
        "Origin": "http://127.0.0.1:5000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    response = fake.http.options(fake.url + "/v1/payment_intents/pi_x/confirm", headers=headers)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_unknown_api_path_answers_a_stripe_error(fake):
    response = fake.call("GET", "/v1/nothing_here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_setup_and_cancel_events(sdk, webhooks):
    seti = sdk.v1.setup_intents.create({"usage": "off_session"})
    seti = sdk.v1.setup_intents.confirm(seti.id, {"payment_method": "pm_card_visa"})
    assert seti.status == "succeeded"
    pi = sdk.v1.payment_intents.create({"amount": 300, "currency": "usd"})
    pi = sdk.v1.payment_intents.cancel(pi.id, {"cancellation_reason": "abandoned"})
    assert (pi.status, pi.cancellation_reason) == ("canceled", "abandoned")
    types = {
        "setup_intent.created",
        "setup_intent.succeeded",
        "payment_intent.created",
        "payment_intent.canceled",
    }
    events = signed_events(webhooks, types)
    assert events["setup_intent.succeeded"].data.object.id == seti.id
    assert events["payment_intent.canceled"].data.object.status == "canceled"
