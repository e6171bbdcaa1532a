"""Event envelopes as today's Stripe sends them: api_version, pending_webhooks, request, and
data.previous_attributes on *.updated events."""

import time

import stripe


def by_type(events):
    return {e["type"]: e for e in events}


def test_api_version_is_the_one_the_sdk_pins(fake, webhooks, pay):
    pay()
    events = webhooks.wait_for(lambda events: "payment_intent.succeeded" in by_type(events))
    assert {e["api_version"] for e in events} == {stripe.api_version}
    assert fake.json("GET", "/_config/settings")["api_version"] == stripe.api_version


def test_request_names_the_api_call_and_its_idempotency_key(fake, sdk):
    customer = sdk.v1.customers.create({"email": "a@example.com"}, {"idempotency_key": "cus-1"})
    request_id = customer.last_response.request_id
    assert request_id.startswith("req_")
    event = sdk.v1.events.list({"type": "customer.created"}).data[0]
    assert event.request.id == request_id
    assert event.request.idempotency_key == "cus-1"


def test_an_automatic_event_has_no_request(fake, sdk, card):
    fake.json("POST", "/_config/settings", {"refund_failure_after": "0.1"})
    pi = sdk.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", "payment_method": card("4000000000005126").id}
    )
    sdk.v1.payment_intents.confirm(pi.id)
    sdk.v1.refunds.create({"payment_intent": pi.id})
    deadline = time.monotonic() + 5
    while not sdk.v1.events.list({"type": "refund.failed"}).data:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    failed = sdk.v1.events.list({"type": "refund.failed"}).data[0]
    assert failed.request.to_dict() == {"id": None, "idempotency_key": None}
    created = sdk.v1.events.list({"type": "refund.created"}).data[0]
    assert created.request.id.startswith("req_")


def test_pending_webhooks_counts_endpoints_until_they_answer(fake, webhooks, sdk):
    sdk.v1.customers.create({"email": "a@example.com"})
    delivered = webhooks.wait_for(lambda events: "customer.created" in by_type(events))
    assert by_type(delivered)["customer.created"]["pending_webhooks"] == 1  # as sent
    event_id = by_type(delivered)["customer.created"]["id"]
    deadline = time.monotonic() + 5
    while sdk.v1.events.retrieve(event_id).pending_webhooks != 0:  # the sink answered 200
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_account_updated_has_previous_attributes(fake, sdk, webhooks):
    account = sdk.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    fake.json("POST", f"/_config/accounts/{account.id}/complete")  # details submitted ...
    fake.json("POST", f"/_config/accounts/{account.id}/verify")  # ... then verified
    sdk.v1.accounts.update(account.id, {"metadata": {"tier": "gold"}})
    events = webhooks.wait_for(
        lambda events: [e["type"] for e in events].count("account.updated") >= 3
    )
    # Deliveries may arrive in any order: the fake's event list has them as they were made.
    made = reversed(sdk.v1.events.list({"type": "account.updated"}).data)
    order = [e.id for e in made]
    submitted, verified, updated = sorted(
        (e for e in events if e["type"] == "account.updated"), key=lambda e: order.index(e["id"])
    )
    previous = submitted["data"]["previous_attributes"]
    assert previous["details_submitted"] is False
    assert previous["capabilities"] == {"transfers": "inactive"}
    assert "business_type" in previous["requirements"]["currently_due"]
    previous = verified["data"]["previous_attributes"]
    assert previous["charges_enabled"] is False
    assert previous["payouts_enabled"] is False
    assert previous["capabilities"] == {"transfers": "pending"}
    assert "individual.dob.day" in previous["requirements"]["pending_verification"]
    assert updated["data"]["previous_attributes"] == {"metadata": {"tier": None}}


def test_customer_and_refund_updates_have_previous_attributes(fake, sdk, webhooks, pay):
    customer = sdk.v1.customers.create({"email": "old@example.com"})
    sdk.v1.customers.update(customer.id, {"email": "new@example.com"})
    pi = pay()
    refund = sdk.v1.refunds.create({"payment_intent": pi.id, "metadata": {"n": "1"}})
    sdk.v1.refunds.update(refund.id, {"metadata": {"n": "2"}})
    events = by_type(
        webhooks.wait_for(
            lambda events: {"customer.updated", "refund.updated"} <= set(by_type(events))
        )
    )
    assert events["customer.updated"]["data"]["previous_attributes"] == {"email": "old@example.com"}
    assert events["refund.updated"]["data"]["previous_attributes"] == {"metadata": {"n": "1"}}
    assert "previous_attributes" not in events["refund.created"]["data"]
