"""A creator's payout account through the payouts workflow, Stripe in memory."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payments.gateway import GatewayError
from app.payments.keys import idempotency_key
from app.payouts import workflows as payouts
from app.payouts.models import ConnectedAccount
from app.payouts.services import PayoutStatus
from app.pledges import checkout
from tests.fast.support import LINKS


def stored() -> list[ConnectedAccount]:
    db.session.expire_all()
    return list(db.session.scalars(select(ConnectedAccount)))


def test_connect_makes_one_express_account_and_an_onboarding_link(creator, stripe_memory):
    link = payouts.connect(creator.id, "GB", LINKS)
    (create,) = stripe_memory.calls_to("create_account")
    assert create.key == idempotency_key("account", creator.id)
    assert create.params == {"email": "creator@example.com", "country": "GB"}
    (account,) = stored()
    assert account.user_id == creator.id
    assert account.stripe_account_id in stripe_memory.accounts
    assert not (account.details_submitted or account.payouts_enabled)
    (made,) = stripe_memory.calls_to("create_account_link")
    assert made.params == {
        "account": account.stripe_account_id,
        "refresh_url": LINKS.refresh_url,
        "return_url": LINKS.return_url,
    }
    assert stripe_memory.links == [link]

    again = payouts.connect(creator.id, "GB", LINKS)  # "Continue onboarding"
    assert again != link  # a fresh single-use link
    assert len(stripe_memory.calls_to("create_account")) == 1 and len(stored()) == 1


def test_an_account_made_but_not_stored_is_found_again_by_its_key(creator, stripe_memory):
    stripe_memory.fail("create_account", after=True)  # made at Stripe, the answer lost
    with pytest.raises(GatewayError):
        payouts.connect(creator.id, "US", LINKS)
    assert stored() == []
    payouts.connect(creator.id, "US", LINKS)
    (account,) = stored()
    assert list(stripe_memory.accounts) == [account.stripe_account_id]


def test_stripe_down_when_connecting_stores_nothing(creator, stripe_memory):
    stripe_memory.fail("create_account")
    with pytest.raises(GatewayError):
        payouts.connect(creator.id, "US", LINKS)
    assert stored() == [] and stripe_memory.accounts == {}


def test_refresh_follows_onboarding_to_ready(creator, stripe_memory):
    payouts.connect(creator.id, "US", LINKS)
    (account,) = stored()
    assert payouts.refresh(creator.id) is PayoutStatus.INCOMPLETE
    assert "external_account" in stored()[0].requirements_due
    stripe_memory.complete_account(account.stripe_account_id, verify=False)
    assert payouts.refresh(creator.id) is PayoutStatus.VERIFYING
    stripe_memory.verify_account(account.stripe_account_id)
    assert payouts.refresh(creator.id) is PayoutStatus.READY
    (account,) = stored()
    assert account.ready and account.capabilities == {"transfers": "active"}


def test_an_account_event_reads_the_account_again_rather_than_trusting_its_payload(
    creator, stripe_memory
):
    payouts.connect(creator.id, "US", LINKS)
    (account,) = stored()
    stripe_memory.complete_account(account.stripe_account_id)
    stale = {"id": account.stripe_account_id, "object": "account", "payouts_enabled": False}
    checkout.handle_event("evt_1", "account.updated", stale)
    assert stored()[0].ready  # what Stripe says now, not what the late event said
    (read,) = stripe_memory.calls_to("retrieve_account")
    assert read.params == {"id": account.stripe_account_id}

    checkout.handle_event("evt_2", "account.updated", {**stale, "id": "acct_not_ours"})
    assert len(stripe_memory.calls_to("retrieve_account")) == 1
