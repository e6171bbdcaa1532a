"""The security tests' fixtures: the world of tests/helpers/world.py, built per test.

Its helpers (the world, the rows snapshot, log in with a CSRF token) live in tests/helpers,
so no test module imports this file.
"""

from __future__ import annotations

import pytest

from tests.helpers import SharedTemplateCache
from tests.helpers.world import NO_PLEDGE_START_LIMITS, World, build_world


@pytest.fixture
def world(app, stripe_fake, _compile_templates_once) -> World:
    return build_world(app, stripe_fake)


@pytest.fixture
def _compile_templates_once(app):
    """Every test builds a fresh app; without this each one recompiles every template."""
    app.jinja_env.bytecode_cache = SharedTemplateCache()


@pytest.fixture(autouse=True)
def _no_pledge_start_limits(request):
    """The fuzzers start and stop hundreds of pledges as one backer: the limits on that have
    their own tests (tests/pledges/test_abuse.py) and are lifted here. (Only for tests with the
    per-test ``app``: the access table builds its own app once per module.)"""
    if "app" not in request.fixturenames:
        return
    request.getfixturevalue("app").config.update(NO_PLEDGE_START_LIMITS)
