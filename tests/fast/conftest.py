"""The fast tier: the platform's workflows and services on SQLite with Stripe in memory.

No fake Stripe process and no HTTP: ``app`` is the root conftest's app with
``app.extensions["payments_gateway"]`` (what ``app.payments.gateway()`` returns) replaced by a
``MemoryGateway`` for each test. The root conftest marks every test here ``fast``
(``scripts/test --fast``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payouts import workflows as payouts
from app.payouts.models import ConnectedAccount
from app.pledges import checkout
from app.pledges.models import Payment, Pledge
from app.pledges.services import Terms
from tests.fast.support import LINKS, reread
from tests.helpers import gen_user
from tests.helpers.app import config_for_tests
from tests.helpers.memory_gateway import MemoryGateway


@pytest.fixture(scope="session")
def test_config(database_url) -> dict:
    """The root conftest's test config, but Stripe is never reached: the address refuses
    connections at once, should a call slip past the memory gateway."""
    return config_for_tests(database_url, "http://127.0.0.1:9") | {"STRIPE_RATE_LIMIT": 0}


@pytest.fixture
def app(app):
    """The root conftest's app, talking to Stripe in memory."""
    app.extensions["payments_gateway"] = MemoryGateway()
    return app


@pytest.fixture(autouse=True)
def stripe_memory(app) -> MemoryGateway:
    """The test's Stripe: its objects, the calls it received, and the switches that fail them."""
    return app.extensions["payments_gateway"]


@pytest.fixture
def new_backer() -> Callable[[], int]:
    """Makes a new backer account each call; returns its user id."""
    numbers = itertools.count(1)

    def make() -> int:
        n = next(numbers)
        return gen_user(f"backer{n}@example.com", f"Backer {n}").id

    return make


@pytest.fixture
def pledge_paid(stripe_memory, new_backer) -> Callable[..., Pledge]:
    """A new backer pledges ``amount`` (minor units) to a project's tier and pays by ``card``
    as the browser would, then the return page confirms it; returns the pledge as stored."""

    def pledge(project, amount: int = 2500, tier=None, card: str = "pm_card_visa", backer=None):
        tier_id = (tier or project.tiers[0]).id
        backer_id = backer or new_backer()
        started = checkout.begin_pledge(backer_id, project.id, Terms(tier_id, amount))
        payment = db.session.get(Payment, started.payment_id)
        stripe_memory.pay(payment.stripe_payment_intent_id, card)
        checkout.confirm(started.payment_id)
        db.session.expire_all()
        return db.session.get(Pledge, started.pledge_id)

    return pledge


@pytest.fixture
def payout_account(stripe_memory) -> Callable[..., ConnectedAccount]:
    """The user connects a Stripe account through the payouts workflow and, unless not
    ``complete``, finishes onboarding; the stored row, refreshed from Stripe."""

    def connect(user, complete: bool = True) -> ConnectedAccount:
        user_id = user.id
        payouts.connect(user_id, "US", LINKS)
        row = db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.user_id == user_id))
        if complete:
            stripe_memory.complete_account(row.stripe_account_id)
        payouts.refresh(user_id)
        return reread(row)

    return connect
