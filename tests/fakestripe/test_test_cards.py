"""Stripe's test cards with their documented effects: disputes, refunds that fail later,
off-session payments that need authentication, cancelling an intent that cannot be."""

import time

import pytest
import stripe

from tests.fakestripe import contract
from tests.helpers.fakestripe import by_type, wait_until


def total(sdk):
    balance = sdk.v1.balance.retrieve()
    return balance.available[0].amount, balance.pending[0].amount


def test_0259_is_disputed_after_it_succeeds(fake, sdk, webhooks, pay):
    pi = pay(amount=4000, number="4000000000000259")
    assert pi.status == "succeeded"
    events = by_type(webhooks.wait_for(lambda events: "charge.dispute.created" in by_type(events)))
    sent = events["charge.dispute.created"]["data"]["object"]
    dispute = sdk.v1.disputes.retrieve(sent["id"])
    assert dispute.id.startswith("dp_")
    assert (dispute.charge, dispute.payment_intent, dispute.amount, dispute.currency) == (
        pi.latest_charge,
        pi.id,
        4000,
        "usd",
    )
    assert (dispute.reason, dispute.status, dispute.is_charge_refundable) == (
        "fraudulent",
        "needs_response",
        False,
    )
    assert dispute.evidence_details.has_evidence is False
    assert sdk.v1.charges.retrieve(pi.latest_charge).disputed is True
    # The amount and Stripe's dispute fee (15.00 USD) leave the balance.
    (withdrawal,) = dispute.balance_transactions
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net, withdrawal.reporting_category) == (
        -4000,
        1500,
        -5500,
        "dispute",
    )
    fee = 116 + 30
    assert sdk.v1.balance.retrieve().pending[0].amount == 4000 - fee - 5500
    assert [d.id for d in sdk.v1.disputes.list({"charge": pi.latest_charge}).data] == [dispute.id]
    assert "charge.dispute.funds_withdrawn" in events or webhooks.wait_for(
        lambda events: "charge.dispute.funds_withdrawn" in by_type(events)
    )


def test_4242_is_not_disputed(sdk, pay):
    pi = pay()
    assert sdk.v1.charges.retrieve(pi.latest_charge).disputed is False
    assert sdk.v1.disputes.list().data == []


def test_dispute_reaches_the_platforms_handler_shape(fake, sdk, webhooks, pay):
    """app/pledges/checkout.py _on_dispute reads payment_intent or charge from the dispute."""
    pi = pay(number="4000000000000259")
    event = by_type(webhooks.wait_for(lambda e: "charge.dispute.created" in by_type(e)))
    obj = event["charge.dispute.created"]["data"]["object"]
    assert (obj["object"], obj["payment_intent"], obj["charge"]) == (
        "dispute",
        pi.id,
        pi.latest_charge,
    )


def test_5126_refund_succeeds_then_fails(fake, sdk, webhooks, pay):
    fake.json("POST", "/_config/settings", {"refund_failure_after": "0.3"})
    pi = pay(amount=2000, number="4000000000005126")
    fake.json("POST", "/_config/balance/make_available")
    refund = sdk.v1.refunds.create({"payment_intent": pi.id})
    assert refund.status == "succeeded"
    assert "failure_reason" not in refund.to_dict()
    # The refund takes the available 1912 and 88 more from pending (the fee stays with Stripe).
    assert total(sdk) == (0, -88)

    wait_until(lambda: sdk.v1.refunds.retrieve(refund.id).status == "failed")
    failed = sdk.v1.refunds.retrieve(refund.id, {"expand": ["failure_balance_transaction"]})
    assert failed.failure_reason == "expired_or_canceled_card"
    back = failed.failure_balance_transaction
    assert (back.type, back.amount, back.fee, back.source) == ("refund_failure", 2000, 0, refund.id)
    # The money is back and the charge no longer counts it as refunded.
    assert total(sdk) == (2000, -88)
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)

    events = webhooks.wait_for(
        lambda events: (
            {"refund.failed", "charge.refund.updated", "refund.updated"} <= set(by_type(events))
        )
    )
    events = by_type(events)
    for kind in ("refund.failed", "charge.refund.updated", "refund.updated"):
        obj = events[kind]["data"]["object"]
        assert (obj["id"], obj["status"], obj["failure_reason"]) == (
            refund.id,
            "failed",
            "expired_or_canceled_card",
        )
    previous = events["charge.refund.updated"]["data"]["previous_attributes"]
    assert previous["status"] == "succeeded"
    assert previous["failure_reason"] is None
    assert events["refund.updated"]["data"]["previous_attributes"] == previous


def test_4242_refund_does_not_fail(fake, sdk, pay):
    fake.json("POST", "/_config/settings", {"refund_failure_after": "0.1"})
    refund = sdk.v1.refunds.create({"payment_intent": pay().id})
    time.sleep(0.3)
    assert sdk.v1.refunds.retrieve(refund.id).status == "succeeded"


@pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184"])
def test_off_session_payment_needing_authentication_answers_402(sdk, card, number):
    pm = card(number)
    pi = sdk.v1.payment_intents.create({"amount": 1500, "currency": "usd", "payment_method": pm.id})
    with pytest.raises(stripe.CardError) as caught:
        sdk.v1.payment_intents.confirm(pi.id, {"off_session": True})
    error = caught.value
    assert (error.http_status, error.code, error.error.type) == (
        402,
        "authentication_required",
        "card_error",
    )
    assert error.error.decline_code == "authentication_required"
    assert error.error.payment_intent.id == pi.id
    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "authentication_required"
    assert pi.next_action is None


def test_off_session_at_create_with_confirm(sdk, card):
    params = {
        "amount": 1500,
        "currency": "usd",
        "payment_method": card("4000002760003184").id,
        "confirm": True,
        "off_session": True,
    }
    with pytest.raises(stripe.CardError) as caught:
        sdk.v1.payment_intents.create(params)
    assert caught.value.code == "authentication_required"


def test_on_session_the_same_card_asks_for_authentication(sdk, card):
    pi = sdk.v1.payment_intents.create(
        {"amount": 1500, "currency": "usd", "payment_method": card("4000002500003155").id}
    )
    assert sdk.v1.payment_intents.confirm(pi.id).status == "requires_action"


def test_off_session_without_authentication_needed_succeeds(sdk, card):
    pi = sdk.v1.payment_intents.create(
        {"amount": 1500, "currency": "usd", "payment_method": card("4242424242424242").id}
    )
    assert sdk.v1.payment_intents.confirm(pi.id, {"off_session": True}).status == "succeeded"


def test_3155_set_up_for_off_session_needs_no_authentication_later(fake, sdk, card):
    pm = card("4000002500003155")
    seti = sdk.v1.setup_intents.create({"usage": "off_session"})
    seti = sdk.v1.setup_intents.confirm(seti.id, {"payment_method": pm.id})
    assert seti.status == "requires_action"
    seti = sdk.v1.setup_intents.confirm(seti.id)  # localstripe: the authenticated second step
    assert seti.status == "succeeded"
    pi = sdk.v1.payment_intents.create({"amount": 1500, "currency": "usd", "payment_method": pm.id})
    assert sdk.v1.payment_intents.confirm(pi.id, {"off_session": True}).status == "succeeded"


def test_cancelling_a_succeeded_intent_is_an_unexpected_state(sdk, pay):
    pi = pay()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.cancel(pi.id)
    assert caught.value.http_status == 400
    assert caught.value.code == "payment_intent_unexpected_state"
    assert "status of succeeded" in caught.value.user_message


def test_a_declined_setup_intent_can_be_retried_with_another_card(fake, sdk, card, webhooks):
    """As on Stripe: 402 card_error, the intent back at requires_payment_method without the
    card, last_setup_error saying why; another card then sets up; setup_intent.setup_failed."""
    seti = sdk.v1.setup_intents.create({"usage": "off_session"})
    declined = card("4000000000009995")
    with pytest.raises(stripe.CardError) as caught:
        sdk.v1.setup_intents.confirm(seti.id, {"payment_method": declined.id})
    error = caught.value.error
    assert caught.value.http_status == 402
    assert (error.type, error.code, error.decline_code) == (
        "card_error",
        "card_declined",
        "insufficient_funds",
    )
    assert error.message == "Your card has insufficient funds."
    assert error.payment_method.id == declined.id
    assert error.setup_intent.status == "requires_payment_method"
    seti = sdk.v1.setup_intents.retrieve(seti.id)
    assert (seti.status, seti.payment_method) == ("requires_payment_method", None)
    assert seti.last_setup_error.code == "card_declined"
    assert seti.last_setup_error.decline_code == "insufficient_funds"
    assert seti.last_setup_error.payment_method.id == declined.id
    response = fake.call("GET", f"/v1/setup_intents/{seti.id}")
    if contract.SCHEMA_FILE.is_file():
        body = response.json()
        assert contract.object_errors(body) == []
        assert (
            contract.errors(caught.value.json_body["error"], contract.schema_ref("api_errors"))
            == []
        )

    seti = sdk.v1.setup_intents.confirm(seti.id, {"payment_method": card("4242424242424242").id})
    assert (seti.status, seti.last_setup_error) == ("succeeded", None)
    events = webhooks.wait_for(
        lambda events: (
            {"setup_intent.setup_failed", "setup_intent.succeeded"} <= {e["type"] for e in events}
        )
    )
    failed = by_type(events)["setup_intent.setup_failed"]["data"]["object"]
    assert failed["status"] == "requires_payment_method"
    assert failed["last_setup_error"]["decline_code"] == "insufficient_funds"


def test_a_setup_intent_with_an_incorrect_number_says_so(sdk, card):
    seti = sdk.v1.setup_intents.create({"usage": "off_session"})
    with pytest.raises(stripe.CardError) as caught:
        sdk.v1.setup_intents.confirm(seti.id, {"payment_method": card("4242424242424241").id})
    assert caught.value.code == "incorrect_number"
    assert sdk.v1.setup_intents.retrieve(seti.id).last_setup_error.code == "incorrect_number"
