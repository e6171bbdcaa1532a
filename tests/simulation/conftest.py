"""A frozen clock: the simulation alone moves time, so a seed replays the same story; and the
settlement tests' fixtures, for the short stories of test_found_bugs.py."""

from __future__ import annotations

import pytest

from app import clock as app_clock
from tests.helpers.settling import Clock


@pytest.fixture
def sim_clock(monkeypatch) -> Clock:
    """The settlement tests' Clock, with its base frozen at the test's start."""
    fake = Clock()
    base = fake.now()
    fake._real = lambda: base
    monkeypatch.setattr(app_clock, "now", fake.now)
    return fake
