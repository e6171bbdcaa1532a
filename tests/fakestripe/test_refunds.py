"""Refunds: partial, the rest, over-refunds rejected, by payment_intent or by charge."""

import pytest
import stripe


def test_full_refund_by_payment_intent(sdk, pay):
    pi = pay(amount=2000)
    refund = sdk.v1.refunds.create({"payment_intent": pi.id})
    assert (refund.amount, refund.status, refund.charge) == (2000, "succeeded", pi.latest_charge)
    assert refund.payment_intent == pi.id
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)


def test_partial_refund_then_the_rest(sdk, pay):
    pi = pay(amount=1000)
    first = sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 300})
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert (first.amount, charge.amount_refunded, charge.refunded) == (300, 300, False)

    rest = sdk.v1.refunds.create({"payment_intent": pi.id})
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert (rest.amount, charge.amount_refunded, charge.refunded) == (700, 1000, True)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.refunds.create({"payment_intent": pi.id})
    assert caught.value.code == "charge_already_refunded"
    refunds = sdk.v1.refunds.list({"payment_intent": pi.id})
    assert sorted(r.amount for r in refunds.data) == [300, 700]


def test_over_refund_is_rejected(sdk, pay):
    pi = pay(amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 1500})
    assert (caught.value.http_status, caught.value.code) == (400, "amount_too_large")
    assert caught.value.error.type == "invalid_request_error"
    assert "is greater than unrefunded amount on charge ($10.00)" in caught.value.user_message

    sdk.v1.refunds.create({"charge": pi.latest_charge, "amount": 400})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.refunds.create({"charge": pi.latest_charge, "amount": 700})
    assert "($6.00)" in caught.value.user_message
    sdk.v1.refunds.create({"charge": pi.latest_charge, "amount": 600})
    charge = sdk.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)


def test_a_failed_payment_cannot_be_refunded(sdk, card):
    pi = sdk.v1.payment_intents.create({"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.CardError):
        sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card("4000000000000002").id})
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.refunds.create({"payment_intent": pi.id})
