"""Settled projects made for real (pledges through the pages, settlement through the CLI)."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.helpers import Browser, gen_tier
from tests.helpers.settling import make_balance_available, ready_account, settle
from tests.helpers.statements import pledge


@pytest.fixture
def owner_browser(app, creator):
    browser = Browser(app.test_client())
    browser.login(creator.email)
    return browser


@pytest.fixture
def shipping_tier(project):
    """A $300 tier that ships, $15 shipping."""
    tier = gen_tier(project, title="Lamp", minimum=30_000, shipping_fee=1_500)
    db.session.commit()
    return tier


@pytest.fixture
def paid_out(app, creator, project, shipping_tier, stripe_fake, clock, runner):
    """Goal $1,000; $400 + ($350.50 + $15 shipping to DE) + $300 = $1,065.50, paid out."""
    ready_account(creator, stripe_fake)
    pledge(app, stripe_fake, project, "bea@example.com", "Bea", "400")
    pledge(app, stripe_fake, project, "cy@example.com", "Cy", "350.50", shipping_tier, country="DE")
    pledge(app, stripe_fake, project, "di@example.com", "Di", "300")
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    assert "paid_out" in settle(runner)
    db.session.refresh(project)
    return project


@pytest.fixture
def failed(app, creator, project, stripe_fake, clock, runner):
    """Three pledges ($100, $250, $10.01) short of $1,000: everyone refunded."""
    pledge(app, stripe_fake, project, "bea@example.com", "Bea", "100")
    pledge(app, stripe_fake, project, "cy@example.com", "Cy", "250")
    pledge(app, stripe_fake, project, "di@example.com", "Di", "10.01")
    clock.jump_past(project.deadline)
    assert "failed, refunds planned 3, made 3" in settle(runner)
    db.session.refresh(project)
    return project
