"""A request that waited too long in front of the workers is turned away before any work."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.pledges.models import Pledge
from app.shedding import queued_for


def stamp(seconds_ago: float) -> dict:
    return {"X-Request-Start": f"t={time.time() - seconds_ago:.3f}"}  # nginx's ${msec}


def back(browser, project, headers):
    fields = {"tier_id": str(project.tiers[0].id), "amount": "25"}
    return browser.submit(f"/projects/{project.id}/back", fields, headers=headers)


def pledges() -> int:
    return db.session.scalar(select(func.count()).select_from(Pledge))


@pytest.mark.parametrize(
    ("header", "waited"),
    [
        ("t=1000.5", 500.0),  # seconds with milliseconds, as nginx's ${msec}
        ("1000.5", 500.0),  # without the "t="
        ("t=2000", 0.0),  # clocks a little apart: not queued at all
        (None, None),
        ("", None),
        ("t=", None),
        ("t=abc", None),
        ("t=nan", None),
        ("t=inf", None),
        ("t=-5", None),
        ("t=1e400", None),
    ],
)
def test_the_stamp_is_read_and_anything_odd_is_ignored(header, waited):
    assert queued_for(header, now=1500.5) == waited


def test_milliseconds_and_microseconds_are_understood():
    now = 1_750_000_000.0
    assert queued_for(f"t={int((now - 12) * 1000)}", now) == pytest.approx(12)
    assert queued_for(f"t={int((now - 12) * 1_000_000)}", now) == pytest.approx(12)


def test_a_pledge_that_waited_too_long_reserves_nothing_and_charges_nothing(
    app, backer, project, stripe_fake
):
    waited = app.config["QUEUE_TIMEOUT_SECONDS"] + 5
    response = back(backer, project, stamp(waited))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Content-Security-Policy" in response.headers
    page = response.get_data(as_text=True)
    assert "nothing was reserved and nothing was charged" in page
    assert "try again in a few seconds" in page
    assert pledges() == 0
    db.session.refresh(project)
    assert project.tiers[0].claimed == 0
    assert stripe_fake.requests("/v1/payment_intents", "POST") == []


def test_a_pledge_served_in_time_goes_through(app, backer, project, stripe_fake):
    response = back(backer, project, stamp(1))
    assert response.status_code == 302
    assert "/pay" in response.headers["Location"]
    assert pledges() == 1


def test_without_the_stamp_or_with_a_garbled_one_nothing_changes(app, client):
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"X-Request-Start": "t=yesterday"}).status_code == 200


def test_zero_turns_it_off(test_config, instance_dir):
    app = create_app({**test_config, "QUEUE_TIMEOUT_SECONDS": 0}, instance_path=instance_dir)
    with app.app_context():
        response = app.test_client().get("/", headers=stamp(3600))
        db.session.remove()
        db.engine.dispose()  # its own pool: closed here, not by the garbage collector later
    assert response.status_code == 200
