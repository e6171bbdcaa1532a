"""Abuse that costs nothing: reserving places without paying, and starting pledges in bulk.
Each refusal says why and writes nothing: no pledge row, no call to Stripe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.pledges.domain import start_allowed_at
from app.pledges.models import Pledge
from tests.helpers import gen_project
from tests.helpers.pledging import latest_pledge, open_payment_of, start

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COOL = timedelta(minutes=15)
ONE_SECOND = timedelta(seconds=1)


def pledges() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Pledge))


def test_the_wait_starts_at_the_threshold_and_doubles():
    minutes = [T0 + timedelta(minutes=m) for m in (0, 1, 2, 3)]
    assert start_allowed_at(minutes[:2], T0 + timedelta(minutes=2), 3, COOL) is None
    assert start_allowed_at(minutes[:3], minutes[2], 3, COOL) == minutes[2] + COOL
    assert start_allowed_at(minutes, minutes[3], 3, COOL) == minutes[3] + 2 * COOL
    # Past the wait, or once they are more than a day old, nothing holds the account back.
    assert start_allowed_at(minutes[:3], minutes[2] + COOL, 3, COOL) is None
    assert start_allowed_at(minutes, T0 + timedelta(hours=24, minutes=1), 3, COOL) is None
    assert start_allowed_at(minutes, minutes[3], 0, COOL) is None  # 0 turns it off


def test_a_place_in_a_limited_tier_waits_less_for_its_payment(app, backer, project, clock):
    limited = project.tiers[1]
    limited.quantity_limit = 5
    db.session.commit()
    start(backer, project, tier=limited, amount="25")
    payment = open_payment_of(latest_pledge().id)
    assert abs(payment.expires_at - payment.created_at - timedelta(minutes=10)) < ONE_SECOND
    other = gen_project(project.owner, "live", title="Sun Lamp")
    start(backer, other, amount="25")  # an unlimited tier: the usual 30 minutes
    payment = open_payment_of(latest_pledge().id)
    assert abs(payment.expires_at - payment.created_at - timedelta(minutes=30)) < ONE_SECOND


def test_an_account_has_few_unpaid_pledges_across_the_site(app, backer, project, stripe_fake):
    owner = project.owner
    for n in range(3):
        target = project if n == 0 else gen_project(owner, "live", title=f"Lamp {n}")
        assert start(backer, target).status_code == 302
    fourth = gen_project(owner, "live", title="Lamp 4")
    calls = len(stripe_fake.requests())
    answer = start(backer, fourth)
    assert answer.status_code == 200
    assert "You have 3 pledges waiting for payment" in answer.get_data(as_text=True)
    assert pledges() == 3 and len(stripe_fake.requests()) == calls


def test_an_account_that_keeps_abandoning_waits_before_the_next(
    app,
    backer,
    project,
    stripe_fake,
    clock,
):
    for _ in range(3):
        start(backer, project)
        pledge_id = latest_pledge().id
        backer.submit(f"/pledges/{pledge_id}/pay", action=f"/pledges/{pledge_id}/abandon")
        clock.advance(minutes=1)
    assert pledges() == 3
    answer = start(backer, project)
    text = answer.get_data(as_text=True)
    assert "You have left 3 pledges unpaid in the last 24 hours" in text
    assert "in 14 minutes" in text
    assert pledges() == 3
    clock.advance(minutes=15)
    assert start(backer, project).status_code == 302  # the wait is over
    assert pledges() == 4


def test_starting_pledges_is_rate_limited_per_account(app, backer, project, stripe_fake):
    app.config["PLEDGE_START_LIMIT_PER_ACCOUNT"] = "2 per hour"
    owner = project.owner
    for n in range(2):
        target = project if n == 0 else gen_project(owner, "live", title=f"Lamp {n}")
        assert start(backer, target).status_code == 302
    third = gen_project(owner, "live", title="Lamp 3")
    answer = start(backer, third)
    assert answer.status_code == 429
    assert "You have started many pledges in the last hour" in answer.get_data(as_text=True)
    assert pledges() == 2


def test_starting_pledges_is_rate_limited_per_network(app, project, stripe_fake):
    from tests.helpers.pledging import new_backer

    app.config["PLEDGE_START_LIMIT_PER_IP"] = "2 per hour"
    for n in range(2):
        assert start(new_backer(app, f"b{n}@example.com", f"B{n}"), project).status_code == 302
    answer = start(new_backer(app, "b3@example.com", "B3"), project)
    assert answer.status_code == 429
    assert "Too many pledges started from your network" in answer.get_data(as_text=True)
    assert pledges() == 2
