"""Settlement runs side by side: a lease held elsewhere is respected, racing claims have one
winner, and two real settling processes plus a CLI run refund each pledge exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app import clock as app_clock
from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerTransaction
from app.pledges import checkout
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, Pledge, Refund, RefundStatus
from app.pledges.services import Terms
from app.projects.models import Project
from app.settlement import runner as settlement
from app.settlement import services
from tests.helpers import gen_user
from tests.helpers.settling import back, settle

ROOT = Path(__file__).resolve().parents[2]


def assert_each_pledge_refunded_once(project_id: int, stripe_fake, pledges: int) -> None:
    db.session.expire_all()
    intents = dict(
        db.session.execute(
            select(Payment.stripe_payment_intent_id, Payment.amount)
            .join(Pledge)
            .where(Pledge.project_id == project_id)
        ).all()
    )
    assert len(intents) == pledges
    refunds = stripe_fake.objects("refunds")
    per_intent = Counter(r["payment_intent"] for r in refunds)
    assert per_intent == Counter(dict.fromkeys(intents, 1))  # each pledge once, no stranger
    assert all(r["amount"] == intents[r["payment_intent"]] for r in refunds)
    booked = list(
        db.session.scalars(
            select(Refund.stripe_refund_id).where(Refund.status == RefundStatus.SUCCEEDED)
        )
    )
    assert sorted(booked) == sorted(r["id"] for r in refunds)  # each refund booked once
    kinds = Counter(
        db.session.scalars(
            select(LedgerTransaction.kind).where(LedgerTransaction.project_id == project_id)
        )
    )
    assert kinds == {"charge": pledges, "refund": pledges}
    statuses = db.session.scalars(select(Pledge.status).where(Pledge.project_id == project_id))
    assert set(statuses) == {PledgeStatus.REFUNDED}
    project = db.session.get(Project, project_id)
    assert project.status.value == "failed" and project.settled_at is not None
    assert ledger.balance(ledger.escrow(project_id)) == 0
    assert books.check() == []


def pledge_for_real(stripe_fake, project, amounts: list[int]) -> None:
    """Backers pledge through the checkout workflow (as the pages do, minus the HTML): a
    customer and a PaymentIntent at the fake Stripe, the card confirmed, the payment booked."""
    tier_id = project.tiers[0].id
    for i, amount in enumerate(amounts):
        backer = gen_user(f"proc-backer{i}@example.com", f"Backer {i}")
        payment_id = checkout.begin_pledge(backer.id, project.id, Terms(tier_id, amount)).payment_id
        intent = db.session.get(Payment, payment_id).stripe_payment_intent_id
        db.session.commit()
        stripe_fake.pay(intent)
        assert checkout.confirm(payment_id).status == "held"


def test_a_run_skips_a_project_whose_lease_another_process_holds(
    app, creator, project, stripe_fake, clock, runner
):
    back(app, stripe_fake, project, ["100", "200"])
    clock.jump_past(project.deadline)
    assert services.claim(project.id, app_clock.now())  # the other process
    db.session.commit()

    assert settle(runner) == "Nothing to settle.\n"
    assert settlement.settle_due(project.id) == []
    assert not services.claim(project.id, app_clock.now())
    db.session.rollback()
    assert stripe_fake.requests("/v1/refunds") == []
    db.session.refresh(project)
    assert project.status.value == "live"  # untouched: the lease holder decides

    clock.advance(seconds=app.config["SETTLEMENT_LEASE_SECONDS"] - 2)
    assert settle(runner) == "Nothing to settle.\n"  # still held
    clock.advance(seconds=3)  # the holder died: its lease ran out
    assert "failed, refunds planned 2, made 2, settled" in settle(runner)
    assert_each_pledge_refunded_once(project.id, stripe_fake, 2)


@pytest.mark.postgres
def test_racing_claims_have_exactly_one_winner(app, creator, project, stripe_fake, clock):
    clock.jump_past(project.deadline)
    project_id = project.id
    db.session.commit()
    db.session.remove()
    start = threading.Barrier(8, timeout=30)
    won: list[bool] = []

    def contender() -> None:
        with app.app_context():
            try:
                start.wait(timeout=10)
                result = services.claim(project_id, app_clock.now())
                db.session.commit()
                won.append(result)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=contender) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(won) == [False] * 7 + [True]


def _settle_process(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "projects", "settle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.e2e  # real `flask` processes: selected with the end-to-end suites
def test_two_settling_processes_and_a_cli_run_refund_each_pledge_once(
    app, creator, project, stripe_fake, database_url, fakestripe_url, runner
):
    pledges = 40
    project.goal_amount = 1_000_000  # $10,000: the $1,180 pledged fails
    db.session.commit()
    pledge_for_real(stripe_fake, project, [1000 + 100 * i for i in range(pledges)])
    project_id = project.id
    # The processes use the real clock: the deadline moves into the past, for real.
    db.session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(deadline=app_clock.now() - timedelta(seconds=1))
    )
    db.session.commit()
    db.session.remove()  # nothing of the test stays open while they work

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STRIPE_API_BASE": fakestripe_url,
        "STRIPE_SECRET_KEY": "",
        "SECRET_KEY": "test-secret-key",  # the same idempotency prefix as the test app
        "STRIPE_RATE_LIMIT": "1000",
    }
    processes = [_settle_process(env), _settle_process(env)]  # at the same moment
    try:
        # The third run starts once one of them is at work, so it meets a held lease or
        # work half done, as a scheduler and an operator's CLI run would.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            claimed = db.session.execute(
                select(Project.status, Project.settlement_lease_until).where(
                    Project.id == project_id
                )
            ).one()
            db.session.rollback()
            if claimed.status.value != "live" or claimed.settlement_lease_until is not None:
                break
            time.sleep(0.01)
        third = settle(runner)
        outputs = [p.communicate(timeout=60)[0] for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in processes] == [0, 0], outputs
    db.session.remove()

    # The refunds were planned once, by whichever run won the claim.
    planned = [
        int(n) for out in [*outputs, third] for n in re.findall(r"refunds planned (\d+)", out)
    ]
    assert sum(planned) == pledges, [*outputs, third]
    assert_each_pledge_refunded_once(project_id, stripe_fake, pledges)
    # And every refund call at Stripe used a key of its own: no refund was sent by two runs
    # (a replay would answer the same refund twice without creating a second one).
    keys = Counter(
        r["idempotency_key"]
        for r in stripe_fake.requests("/v1/refunds", "POST")
        if r["status"] == 200
    )
    assert len(keys) == pledges
