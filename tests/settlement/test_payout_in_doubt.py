"""A transfer in doubt (sent, its answer never recorded) is looked up at Stripe before it is
replayed: Stripe forgets an idempotency key after 24 hours, and a replay after that would pay
the creator a second time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payments import gateway
from app.payouts.models import Payout, PayoutStatus
from app.settlement import services
from tests.helpers.settling import (
    WORK_LEFT,
    NetworkFault,
    assert_settled_exactly_once,
    funded,
    settle,
)


def transfer_in_doubt(app, stripe_fake, creator, project, clock, runner, monkeypatch, fault):
    """A funded project whose one transfer call failed as ``fault`` ("lost": Stripe made the
    transfer; "reset": it never got the call): either way the payout is in doubt."""
    funded(app, stripe_fake, creator, project, clock)
    NetworkFault(monkeypatch, gateway().client.v1.transfers, "create", fault, count=1)
    assert WORK_LEFT in settle(runner)
    payout = db.session.scalar(select(Payout))
    assert services.transfer_in_doubt(payout)
    return payout


def a_day_later(stripe_fake, payout) -> None:
    """Stripe no longer knows the transfer's idempotency key, so a replay of it is a new
    request (the fake keeps keys for 24 hours of real time: moving the payout to a key it has
    never seen is the same thing, seen from Stripe). And other projects' money has become
    available, so no balance_insufficient would stop a second transfer."""
    payout.idempotency_key += "-a-day-later"
    db.session.commit()
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/balance", data={"available[usd]": 10**8}, timeout=10
    ).raise_for_status()


def transfer_posts(stripe_fake) -> int:
    return len(stripe_fake.requests("/v1/transfers", "POST"))


def test_a_lost_transfer_is_found_at_stripe_and_recorded_not_sent_again(
    app, creator, project, stripe_fake, clock, runner, monkeypatch
):
    payout = transfer_in_doubt(
        app, stripe_fake, creator, project, clock, runner, monkeypatch, "lost"
    )
    (made,) = stripe_fake.objects("transfers")
    a_day_later(stripe_fake, payout)

    posts = transfer_posts(stripe_fake)
    output = settle(runner)
    assert f"payout paid: {made['id']}" in output and ", settled" in output
    assert transfer_posts(stripe_fake) == posts  # found by the lookup: nothing sent
    assert_settled_exactly_once(project, stripe_fake, "paid_out")  # one transfer, books OK


def test_a_transfer_that_never_reached_stripe_is_replayed_and_pays_once(
    app, creator, project, stripe_fake, clock, runner, monkeypatch
):
    transfer_in_doubt(app, stripe_fake, creator, project, clock, runner, monkeypatch, "reset")
    assert stripe_fake.objects("transfers") == []

    posts = len(stripe_fake.requests())
    assert ", settled" in settle(runner)
    calls = [(r["method"], r["path"]) for r in stripe_fake.requests()[posts:]]
    lookup = calls.index(("GET", "/v1/transfers"))
    assert calls[lookup + 1 :].count(("POST", "/v1/transfers")) == 1  # looked, then sent once
    assert_settled_exactly_once(project, stripe_fake, "paid_out")


@pytest.mark.parametrize("fault", ["reset", "400", "429", "500"])
def test_a_failed_lookup_sends_nothing_and_leaves_the_transfer_in_doubt(
    app, creator, project, stripe_fake, clock, runner, monkeypatch, fault
):
    payout = transfer_in_doubt(
        app, stripe_fake, creator, project, clock, runner, monkeypatch, "lost"
    )
    a_day_later(stripe_fake, payout)  # a replay now would pay twice
    if fault == "reset":
        NetworkFault(monkeypatch, gateway().client.v1.transfers, "list", "reset", count=1)
    else:
        stripe_fake.fault("/v1/transfers", int(fault), count=1, method="GET")

    posts = transfer_posts(stripe_fake)
    assert WORK_LEFT in settle(runner)
    assert transfer_posts(stripe_fake) == posts
    db.session.expire_all()
    payout = db.session.scalar(select(Payout))
    assert payout.status is PayoutStatus.PENDING and payout.attempts == 0
    assert services.transfer_in_doubt(payout)
    assert len(stripe_fake.objects("transfers")) == 1

    # Once Stripe answers again, the next run finds the transfer and settles, still paid once.
    assert ", settled" in settle(runner)
    assert transfer_posts(stripe_fake) == posts
    assert_settled_exactly_once(project, stripe_fake, "paid_out")
