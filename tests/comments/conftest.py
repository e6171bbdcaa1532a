"""Comment fixtures: a live project, a backer of it and someone with no stake, logged in."""

from __future__ import annotations

import pytest

from app import clock
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from tests.helpers import Browser, gen_user


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


@pytest.fixture
def bea(app, project):
    """A backer of the project, logged in."""
    user = gen_user("bea@example.com", "Bea")
    gen_backing(project, user)
    return signed_in(app, user)


@pytest.fixture
def cora(app, creator):
    """The project's creator, logged in."""
    return signed_in(app, creator)


@pytest.fixture
def otto(app):
    """Signed in, with no pledge to the project."""
    return signed_in(app, gen_user("otto@example.com", "Otto"))
