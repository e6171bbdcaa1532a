"""Stripe's "refund pending" test card 4000 0000 0000 7726: the refund is pending at first and
succeeds a little later, with charge.refund.updated and refund.updated."""

from tests.helpers.fakestripe import by_type, wait_until


def test_7726_refund_is_pending_then_succeeds(fake, sdk, webhooks, pay):
    fake.json("POST", "/_config/settings", {"refund_failure_after": "0.3"})
    pi = pay(amount=2000, number="4000000000007726")
    refund = sdk.v1.refunds.create({"payment_intent": pi.id})
    assert refund.status == "pending"
    wait_until(lambda: sdk.v1.refunds.retrieve(refund.id).status == "succeeded")
    events = by_type(
        webhooks.wait_for(
            lambda evs: {"refund.updated", "charge.refund.updated"} <= set(by_type(evs))
        )
    )
    for kind in ("refund.updated", "charge.refund.updated"):
        event = events[kind]
        assert event["data"]["object"]["status"] == "succeeded"
        assert event["data"]["previous_attributes"] == {"status": "pending"}


def test_other_cards_refund_at_once(fake, sdk, pay):
    pi = pay(amount=2000)
    assert sdk.v1.refunds.create({"payment_intent": pi.id}).status == "succeeded"
