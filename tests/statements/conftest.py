"""Settled projects made for real (pledges through the pages, settlement through the CLI)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from app import clock as app_clock
from app.accounts.models import Role
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from tests.helpers import Browser, gen_tier, gen_user
from tests.helpers.pledging import new_backer, pay_through_pages
from tests.helpers.settling import make_balance_available, ready_account, settle


def login(app, email: str, name: str = "Someone", role: Role = Role.USER) -> Browser:
    gen_user(email, name, role=role)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


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


def pledge(app, stripe_fake, target, email, name, amount, tier=None, country=None):
    """A new backer pledges ``amount`` to ``target`` through the real pages."""
    browser = new_backer(app, email, name)
    pledge_row, _ = pay_through_pages(
        browser, stripe_fake, target, tier=tier, amount=amount, country=country
    )
    return pledge_row


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


def gen_pledges(targets: list[Project], count: int) -> list[int]:
    """``count`` refunded pledges of one backer to each project, written straight to the
    table (no Stripe, no money) in turns, so a project's ids are not consecutive. Returns
    the first project's pledge ids in order."""
    backer = gen_user(f"many-{targets[0].id}@example.com", "Many")
    now = app_clock.now()
    db.session.execute(
        insert(Pledge),
        [
            {
                "project_id": target.id,
                "backer_id": backer.id,
                "tier_id": target.tiers[0].id,
                "currency": target.currency,
                "amount": 1000 + i,
                "status": PledgeStatus.REFUNDED,
                "created_at": now,
            }
            for i in range(count)
            for target in targets
        ],
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(Pledge.id).where(Pledge.project_id == targets[0].id).order_by(Pledge.id)
        )
    )
