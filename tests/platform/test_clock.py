"""Stored timestamps come from app/clock.py at insert time, so a moved clock stamps rows too
(issue 11.6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app import clock as app_clock
from app.extensions import db
from tests.helpers import gen_user

APP = Path(__file__).resolve().parents[2] / "app"


def test_a_row_inserted_under_a_moved_clock_carries_the_moved_time(app, clock):
    clock.advance(days=40)
    user = gen_user()
    db.session.refresh(user)
    assert abs(user.created_at - app_clock.now()) < timedelta(seconds=5)
    assert user.created_at - datetime.now(UTC) > timedelta(days=39)  # not the real time


def test_no_column_default_captures_the_clock_function_at_import():
    pattern = re.compile(r"(default|onupdate)=clock\.now\b")
    found = [
        f"{path.relative_to(APP.parent)}:{number}"
        for path in APP.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == [], "use default=clock.at_insert"
