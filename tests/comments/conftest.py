"""Comment fixtures: a live project, a backer of it and someone with no stake, logged in."""

from __future__ import annotations

import pytest

from tests.helpers import gen_user
from tests.helpers.comments import gen_backing, signed_in


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
