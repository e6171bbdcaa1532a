"""Comment helpers: a backer of a project as a row, a person signed in with their browser."""

from __future__ import annotations

from app import clock
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from tests.helpers import Browser


def gen_backing(project, user, status: PledgeStatus = PledgeStatus.HELD, **fields) -> Pledge:
    """A pledge of ``user`` to ``project`` in ``status``, as a row (the comments only ask
    whether one exists)."""
    pledge = Pledge(
        project_id=project.id,
        backer_id=user.id,
        tier_id=project.tiers[0].id,
        currency=project.currency,
        amount=2500,
        status=status,
        held_at=clock.now(),
        **fields,
    )
    db.session.add(pledge)
    db.session.commit()
    return pledge


def signed_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(user.email).status_code == 302
    return browser
