"""PaymentIntents: parameters, test cards declining at confirm, 3-D Secure, latest_charge."""

import pytest
import stripe

DECLINES = [
    ("4000000000000002", "card_declined", "generic_decline", "Your card was declined."),
    (
        "4000000000009995",
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    ("4000000000000341", "card_declined", "generic_decline", "Your card was declined."),
]


def test_create_accepts_common_parameters(sdk):
    customer = sdk.v1.customers.create({"email": "ada@example.com"})
    pi = sdk.v1.payment_intents.create(
        {
            "amount": 2500,
            "currency": "usd",
            "transfer_group": "project_7",
            "description": "Pledge 12 to project 7",
            "metadata": {"pledge_id": "12"},
            "customer": customer.id,
            "receipt_email": "ada@example.com",
            "statement_descriptor_suffix": "PLEDGE",
            "setup_future_usage": "off_session",
            "capture_method": "automatic",
            "payment_method_types": ["card"],
        }
    )
    again = sdk.v1.payment_intents.retrieve(pi.id)
    assert (again.transfer_group, again.description) == ("project_7", "Pledge 12 to project 7")
    assert again.metadata.to_dict() == {"pledge_id": "12"}
    assert (again.customer, again.status) == (customer.id, "requires_payment_method")
    assert again.capture_method == "automatic"


def test_4242_succeeds_and_latest_charge_is_an_expandable_id(sdk, pay):
    pi = pay(amount=1500, transfer_group="project_1", description="Pledge 1")
    assert pi.status == "succeeded"
    assert isinstance(pi.latest_charge, str) and pi.latest_charge.startswith("ch_")
    assert pi.last_payment_error is None
    expanded = sdk.v1.payment_intents.retrieve(pi.id, {"expand": ["latest_charge"]})
    charge = expanded.latest_charge
    assert (charge.id, charge.amount, charge.paid) == (pi.latest_charge, 1500, True)
    assert (charge.payment_intent, charge.transfer_group) == (pi.id, "project_1")
    assert isinstance(sdk.v1.payment_intents.retrieve(pi.id).latest_charge, str)


@pytest.mark.parametrize(("number", "code", "decline_code", "message"), DECLINES)
def test_decline_cards_fail_at_confirm(sdk, card, number, code, decline_code, message):
    pi = sdk.v1.payment_intents.create({"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.CardError) as caught:
        sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card(number).id})
    error = caught.value.error
    assert (caught.value.http_status, error.type) == (402, "card_error")
    assert (error.code, error.decline_code, error.message) == (code, decline_code, message)
    assert error.payment_intent.id == pi.id
    assert error.payment_intent.status == "requires_payment_method"

    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.payment_method) == ("requires_payment_method", None)
    last = pi.last_payment_error
    assert (last.type, last.code, last.decline_code, last.message) == (
        "card_error",
        code,
        decline_code,
        message,
    )
    assert last.payment_method.card.last4 == number[-4:]
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.failure_code, charge.failure_message) == ("failed", code, message)

    # A new card on the same intent can still pay, as on Stripe.
    pi = sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4242424242424242").id})
    assert (pi.status, pi.last_payment_error) == ("succeeded", None)


def test_0341_attaches_to_a_customer_but_fails_to_charge(sdk, card):
    customer = sdk.v1.customers.create({"email": "bob@example.com"})
    pm = card("4000000000000341")
    sdk.v1.payment_methods.attach(pm.id, {"customer": customer.id})
    with pytest.raises(stripe.CardError) as caught:
        sdk.v1.payment_intents.create(
            {
                "amount": 700,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": pm.id,
                "confirm": True,
            }
        )
    assert caught.value.code == "card_declined"
    assert caught.value.error.payment_intent.status == "requires_payment_method"


def test_0002_is_declined_when_attached(sdk, card):
    customer = sdk.v1.customers.create({"email": "eve@example.com"})
    with pytest.raises(stripe.CardError):
        sdk.v1.payment_methods.attach(card("4000000000000002").id, {"customer": customer.id})


def authenticate(fake, pi, success):
    """What the fake Stripe.js does when the person completes or fails 3-D Secure."""
    data = {"key": "pk_test_x", "client_secret": pi.client_secret, "success": success}
    return fake.call("POST", f"/v1/payment_intents/{pi.id}/_authenticate", data, auth=None)


def test_3ds_card_requires_action_then_succeeds(sdk, fake, card):
    pi = sdk.v1.payment_intents.create({"amount": 4000, "currency": "eur"})
    pi = sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4000002500003155").id})
    assert (pi.status, pi.next_action.type) == ("requires_action", "use_stripe_sdk")
    assert pi.latest_charge is None

    response = authenticate(fake, pi, "true")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded" and pi.latest_charge.startswith("ch_")


def test_3ds_card_fails_authentication(sdk, fake, card):
    pi = sdk.v1.payment_intents.create({"amount": 4000, "currency": "eur"})
    pi = sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4000002500003155").id})
    response = authenticate(fake, pi, "false")
    assert response.status_code == 200, response.text
    pi = sdk.v1.payment_intents.retrieve(pi.id)
    assert (pi.status, pi.latest_charge) == ("requires_payment_method", None)
    assert pi.last_payment_error.code == "payment_intent_authentication_failure"
    assert pi.last_payment_error.payment_method.card.last4 == "3155"


def test_confirm_checks_the_state_and_the_client_secret(sdk, fake, pay):
    pi = pay()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.confirm(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"

    other = sdk.v1.payment_intents.create({"amount": 100, "currency": "usd"})
    data = {"key": "pk_test_x", "client_secret": pi.client_secret, "payment_method": "pm_card_visa"}
    response = fake.call("POST", f"/v1/payment_intents/{other.id}/confirm", data, auth=None)
    assert response.status_code == 400
    response = fake.call(
        "POST", f"/v1/payment_intents/{other.id}/confirm", {"key": "pk_test_x"}, auth=None
    )
    assert response.status_code == 401


def test_unknown_objects_answer_resource_missing(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.payment_intents.retrieve("pi_doesnotexist")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    assert "No such payment_intent: 'pi_doesnotexist'" in caught.value.user_message
