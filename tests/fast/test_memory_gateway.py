"""The in-memory gateway answers as the real one does where the platform relies on it."""

import inspect

import pytest
from sqlalchemy import text

from app.extensions import db
from app.payments import gateway
from app.payments.gateway import CardError, GatewayError, StripeGateway, TransactionOpen
from tests.helpers.memory_gateway import MemoryGateway

INTENT = dict(
    amount=2500,
    currency="USD",
    metadata={"pledge_id": "1"},
    transfer_group="project-1",
    description="Pledge 1",
    key="k-payment-1",
)


def public_methods(cls) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }


def test_it_has_every_method_of_the_stripe_gateway_with_the_same_parameters():
    real = public_methods(StripeGateway)
    memory = public_methods(MemoryGateway)
    assert real, "no methods found"
    for name, signature in real.items():
        assert name in memory, f"MemoryGateway lacks {name}"
        assert memory[name].parameters == signature.parameters, name


def test_the_app_talks_to_it(stripe_memory):
    assert gateway() is stripe_memory


def test_it_refuses_to_be_called_with_a_transaction_open(stripe_memory):
    db.session.execute(text("SELECT 1"))  # opens the session's transaction
    with pytest.raises(TransactionOpen):
        stripe_memory.create_customer("a@example.com", "A", key="k1")
    db.session.rollback()
    assert stripe_memory.create_customer("a@example.com", "A", key="k1").startswith("cus_")
    assert len(stripe_memory.calls) == 1  # the refused call never reached Stripe


def test_the_same_key_and_parameters_answer_the_first_object(stripe_memory):
    customer = stripe_memory.create_customer("a@example.com", "A", key="k-customer")
    first = stripe_memory.create_payment_intent(customer=customer, **INTENT)
    again = stripe_memory.create_payment_intent(customer=customer, **INTENT)
    assert again == first
    assert list(stripe_memory.intents) == [first.id]
    assert [c.key for c in stripe_memory.calls_to("create_payment_intent")] == ["k-payment-1"] * 2


def test_the_same_key_with_other_parameters_is_refused(stripe_memory):
    customer = stripe_memory.create_customer("a@example.com", "A", key="k-customer")
    stripe_memory.create_payment_intent(customer=customer, **INTENT)
    with pytest.raises(GatewayError) as refused:
        stripe_memory.create_payment_intent(customer=customer, **{**INTENT, "amount": 9900})
    assert (refused.value.code, refused.value.retryable) == ("idempotency_error", False)
    assert len(stripe_memory.intents) == 1


def test_a_failure_before_stripe_leaves_nothing_and_a_lost_answer_is_replayed(stripe_memory):
    stripe_memory.fail("create_customer")
    with pytest.raises(GatewayError) as lost:
        stripe_memory.create_customer("a@example.com", "A", key="k-a")
    assert lost.value.retryable and not stripe_memory.customers

    stripe_memory.fail("create_customer", after=True)  # made at Stripe, the answer lost
    with pytest.raises(GatewayError):
        stripe_memory.create_customer("b@example.com", "B", key="k-b")
    (made,) = stripe_memory.customers
    assert stripe_memory.create_customer("b@example.com", "B", key="k-b") == made
    assert len(stripe_memory.customers) == 1


def test_a_refusal_is_kept_under_its_key(stripe_memory):
    stripe_memory.fail("create_customer", CardError("No.", "account_invalid", status=400))
    for _ in range(2):  # the fault is used up, but the key still answers the refusal
        with pytest.raises(CardError):
            stripe_memory.create_customer("a@example.com", "A", key="k-a")
    assert stripe_memory.create_customer("a@example.com", "A", key="k-other").startswith("cus_")


def test_an_unknown_method_cannot_be_failed(stripe_memory):
    with pytest.raises(ValueError):
        stripe_memory.fail("create_refnud")


def paid_intent(gw: MemoryGateway, card: str = "pm_card_visa"):
    customer = gw.create_customer("a@example.com", "A", key="k-customer")
    intent = gw.create_payment_intent(customer=customer, **INTENT)
    return gw.pay(intent.id, card)


def test_cards_succeed_decline_or_ask_for_authentication(stripe_memory):
    paid = paid_intent(stripe_memory)
    assert (paid.status, paid.charge_id) == ("succeeded", f"ch_{paid.id[3:]}")
    assert stripe_memory.pending["usd"] == 2500 and stripe_memory.available["usd"] == 0

    gw = MemoryGateway()
    declined = paid_intent(gw, "pm_card_chargeDeclined")
    assert (declined.status, declined.error_message) == (
        "requires_payment_method",
        "Your card was declined.",
    )
    assert gw.pending["usd"] == 0

    gw = MemoryGateway()
    asked = paid_intent(gw, "pm_card_authenticationRequired")
    assert asked.status == "requires_action"
    assert gw.authenticate(asked.id).status == "succeeded"


def test_a_succeeded_intent_cannot_be_cancelled(stripe_memory):
    paid = paid_intent(stripe_memory)
    with pytest.raises(CardError):
        stripe_memory.cancel_payment_intent(paid.id)
    assert stripe_memory.retrieve_payment_intent(paid.id).status == "succeeded"


def test_refunds_never_exceed_the_charge(stripe_memory):
    paid = paid_intent(stripe_memory)
    refund = stripe_memory.create_refund(
        payment_intent=paid.id, amount=1000, metadata={}, key="k-r1"
    )
    assert (refund.status, refund.amount) == ("succeeded", 1000)
    with pytest.raises(CardError) as refused:
        stripe_memory.create_refund(payment_intent=paid.id, amount=1501, metadata={}, key="k-r2")
    assert refused.value.code == "amount_too_large"
    stripe_memory.create_refund(payment_intent=paid.id, amount=1500, metadata={}, key="k-r3")
    intent, charge = stripe_memory.retrieve_payment_intent_with_charge(paid.id)
    assert intent.charge_id == charge.id
    assert (charge.amount, charge.amount_refunded) == (2500, 2500)
    assert [r.amount for r in stripe_memory.list_refunds(paid.id)] == [1500, 1000]


def test_a_transfer_needs_an_account_and_available_money(stripe_memory):
    paid_intent(stripe_memory)
    account = stripe_memory.create_account(email="c@example.com", country="US", key="k-acct")
    transfer = dict(
        amount=2000,
        currency="USD",
        destination=account.id,
        transfer_group="project-1",
        metadata={"payout_id": "1"},
    )
    with pytest.raises(CardError) as refused:
        stripe_memory.create_transfer(**transfer, key="k-t1")
    assert refused.value.code == "balance_insufficient"
    stripe_memory.make_balance_available()
    assert stripe_memory.available_balance("USD") == 2500
    with pytest.raises(CardError):  # Stripe keeps the refusal under its key
        stripe_memory.create_transfer(**transfer, key="k-t1")
    made = stripe_memory.create_transfer(**transfer, key="k-t2")
    assert stripe_memory.available_balance("usd") == 500
    (listed,) = stripe_memory.list_transfers("project-1")
    assert (listed.id, listed.amount, listed.destination) == (made.id, 2000, account.id)
    with pytest.raises(CardError):
        stripe_memory.create_transfer(**{**transfer, "destination": "acct_nobody"}, key="k-t3")


def test_onboarding_moves_the_account_to_enabled(stripe_memory):
    account = stripe_memory.create_account(email="c@example.com", country="US", key="k-acct")
    assert not account.details_submitted and account.requirements_due
    stripe_memory.complete_account(account.id, verify=False)
    waiting = stripe_memory.retrieve_account(account.id)
    assert waiting.details_submitted and not waiting.payouts_enabled
    assert waiting.pending_verification and not waiting.requirements_due
    stripe_memory.verify_account(account.id)
    ready = stripe_memory.retrieve_account(account.id)
    assert ready.payouts_enabled and ready.capabilities == {"transfers": "active"}
