"""Statement stories: people logged in with their own browser, pledges through the real pages,
and many pledges written straight to the table."""

from __future__ import annotations

from sqlalchemy import insert, select

from app import clock as app_clock
from app.accounts.models import Role
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.models import Project
from tests.helpers import Browser, gen_user
from tests.helpers.pledging import new_backer, pay_through_pages


def login(app, email: str, name: str = "Someone", role: Role = Role.USER) -> Browser:
    gen_user(email, name, role=role)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


def pledge(app, stripe_fake, target, email, name, amount, tier=None, country=None):
    """A new backer pledges ``amount`` to ``target`` through the real pages."""
    browser = new_backer(app, email, name)
    pledge_row, _ = pay_through_pages(
        browser, stripe_fake, target, tier=tier, amount=amount, country=country
    )
    return pledge_row


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
