"""Settlement is exactly-once under faults: each of its Stripe calls fails in every way, and the
process dies between any two of its steps; money still moves once, and is booked once.

The faults: a timeout or connection reset before the call reaches Stripe, a 429 and a 500 (the
fake Stripe's fault injection: nothing runs), and a call that ran at Stripe but whose answer
never came back (the worst case: only the idempotency key stops a second refund or transfer).
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.payments import gateway
from app.payouts.models import ConnectedAccount, Payout, PayoutStatus
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.domain import PledgeStatus
from app.pledges.models import Refund, RefundStatus
from app.pledges.services.refunds import REFUND_REFUSED
from app.settlement import runner as settlement
from app.settlement import services
from tests.helpers.settling import (
    WORK_LEFT,
    NetworkFault,
    assert_settled_exactly_once,
    back,
    funded,
    pledges_of,
    settle,
)


class Killed(SystemExit):
    """The process dies at this point: no ``except Exception`` runs, nothing is committed."""


# ---- what the fake Stripe holds, and what the books say ---------------------------------


def answered_keys(stripe_fake, path: str) -> Counter:
    """How often each idempotency key got a successful answer (replays included)."""
    return Counter(
        r["idempotency_key"] for r in stripe_fake.requests(path, "POST") if r["status"] == 200
    )


# ---- two projects about to settle -------------------------------------------------------


def failing(app, stripe_fake, creator, project, clock) -> str:
    back(app, stripe_fake, project, ["100", "250", "10.01"])  # $360.01 of $1,000
    clock.jump_past(project.deadline)
    return "failed"


# ---- faults -----------------------------------------------------------------------------


# step: (how the project ends, SDK service, method, API path, HTTP method)
STEPS = {
    "refund create": (failing, "refunds", "create", "/v1/refunds", "POST"),
    "balance retrieve": (funded, "balance", "retrieve", "/v1/balance", "GET"),
    "transfer create": (funded, "transfers", "create", "/v1/transfers", "POST"),
}
FAULTS = ["reset", "429", "500", "lost"]


def inject(mp, stripe_fake, step: str, fault: str, count: int):
    """Make the step's next ``count`` calls fail; returns what ends the outage early."""
    _, service, method, path, verb = STEPS[step]
    if fault.isdigit():
        stripe_fake.fault(path, int(fault), count=count, method=verb)
        return lambda: stripe_fake.http.delete(f"{stripe_fake.url}/_config/faults", timeout=10)
    network = NetworkFault(mp, getattr(gateway().client.v1, service), method, fault, count)
    return lambda: setattr(network, "left", 0)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("step", STEPS)
def test_a_fault_leaves_the_work_to_the_next_run_which_finishes_it_once(
    app, creator, project, stripe_fake, clock, runner, monkeypatch, step, fault
):
    """One try per call (STRIPE_RETRY_ATTEMPTS=1): an outage during a run stops that run
    (after every call failed once), and the next run finishes the work."""
    outcome = STEPS[step][0](app, stripe_fake, creator, project, clock)
    end_outage = inject(monkeypatch, stripe_fake, step, fault, count=100)

    assert WORK_LEFT in settle(runner)
    end_outage()
    db.session.expire_all()
    db.session.refresh(project)
    assert project.settled_at is None and project.settlement_lease_until is None
    if outcome == "failed":
        assert project.status.value == "failed"
        stuck = list(db.session.scalars(select(Refund)))
        assert len(stuck) == 3
        assert all(r.status is RefundStatus.PENDING and r.failure_message for r in stuck)
        assert all(r.attempts == 1 for r in stuck)
        assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDING}
        assert ledger.balance(ledger.escrow(project.id)) == 36001
    else:
        assert project.status.value == "funded"
        payout = db.session.scalar(select(Payout))
        assert payout.status is PayoutStatus.PENDING and payout.last_error
        assert {p.status for p in pledges_of(project)} == {PledgeStatus.HELD}
    assert books.check() == []

    assert ", settled" in settle(runner)
    assert_settled_exactly_once(project, stripe_fake, outcome)
    assert settle(runner) == "Nothing to settle.\n"
    if fault == "lost" and STEPS[step][4] == "POST":
        # A lost refund is replayed with its key: Stripe answered it twice, made it once. A lost
        # transfer is looked up and found instead of replayed: answered once.
        answers = 2 if step == "refund create" else 1
        assert max(answered_keys(stripe_fake, STEPS[step][3]).values()) == answers


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("step", STEPS)
def test_a_burst_of_faults_is_retried_within_the_run(
    app, creator, project, stripe_fake, clock, runner, monkeypatch, step, fault
):
    """STRIPE_RETRY_ATTEMPTS=4: two faults in a row are retried, with the same key, at once."""
    monkeypatch.setattr(gateway(), "attempts", 4)
    monkeypatch.setattr(gateway(), "max_wait", 0.05)
    outcome = STEPS[step][0](app, stripe_fake, creator, project, clock)
    inject(monkeypatch, stripe_fake, step, fault, count=2)

    assert ", settled" in settle(runner)
    assert_settled_exactly_once(project, stripe_fake, outcome)
    path, verb = STEPS[step][3], STEPS[step][4]
    if fault.isdigit():
        faulted = [r for r in stripe_fake.requests(path, verb) if r["status"] == int(fault)]
        assert len(faulted) == 2
    if fault == "lost" and verb == "POST":
        assert (
            sum(answered_keys(stripe_fake, path).values())
            == len(stripe_fake.objects(STEPS[step][1])) + 2
        )


def test_a_transfer_whose_answer_was_lost_is_replayed_not_remade(
    app, creator, project, stripe_fake, clock, runner, monkeypatch
):
    """The lost transfer used the balance: the next runs replay its key, even when onboarding
    lapsed in between, instead of waiting for a balance that the transfer itself spent."""
    funded(app, stripe_fake, creator, project, clock)
    NetworkFault(monkeypatch, gateway().client.v1.transfers, "create", "lost", count=1)
    assert WORK_LEFT in settle(runner)
    assert len(stripe_fake.objects("transfers")) == 1
    payout = db.session.scalar(select(Payout))
    assert services.transfer_in_doubt(payout)

    account = db.session.scalar(select(ConnectedAccount))
    account.payouts_enabled = False  # account.updated: Stripe wants more details
    db.session.commit()
    assert "pending: creator onboarding" in settle(runner)
    db.session.refresh(payout)
    assert services.transfer_in_doubt(payout)

    account.payouts_enabled = True
    db.session.commit()
    assert ", settled" in settle(runner)
    assert_settled_exactly_once(project, stripe_fake, "paid_out")
    assert len(answered_keys(stripe_fake, "/v1/transfers")) == 1  # one key, replayed


def test_refunds_whose_answers_were_lost_and_then_came_by_webhook_are_not_made_again(
    app, creator, project, stripe_fake, clock, runner, monkeypatch
):
    failing(app, stripe_fake, creator, project, clock)
    outage = NetworkFault(monkeypatch, gateway().client.v1.refunds, "create", "lost", count=100)
    assert WORK_LEFT in settle(runner)
    outage.left = 0
    assert len(stripe_fake.objects("refunds")) == 3
    for event in stripe_fake.events("charge.refunded"):
        assert checkout.handle_event(event["id"], event["type"], event["data"]["object"]) == "ok"
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDED}

    calls = len(stripe_fake.requests("/v1/refunds", "POST"))
    assert ", settled" in settle(runner)
    assert len(stripe_fake.requests("/v1/refunds", "POST")) == calls
    assert_settled_exactly_once(project, stripe_fake, "failed")
    assert not any(p.disputed for p in pledges_of(project))  # ours, not "external" refunds


# ---- crashes ----------------------------------------------------------------------------


def before(fn):
    """A stand-in that dies instead of running ``fn``."""

    def dead(*args, **kwargs):
        raise Killed(1)

    return dead


def after(fn):
    """A stand-in that runs ``fn`` and dies before its caller can commit what it did."""

    def dead(*args, **kwargs):
        fn(*args, **kwargs)
        raise Killed(1)

    return dead


def on_second_call(fn):
    """Runs ``fn`` once, then dies on the next call."""
    calls = []

    def maybe_dead(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise Killed(1)
        return fn(*args, **kwargs)

    return maybe_dead


# crash point: (project, object to patch, attribute, how it dies)
CRASHES = {
    "planning the refunds": (failing, lambda: services, "plan_refunds", after),
    "before the refund calls": (failing, gateway, "create_refund", before),
    "after Stripe refunded, before booking": (failing, gateway, "create_refund", after),
    "after the first refund": (failing, gateway, "create_refund", on_second_call),
    "before marking settled (refunds)": (failing, lambda: services, "mark_settled_if_done", before),
    "marking settled, before the commit": (
        failing,
        lambda: services,
        "mark_settled_if_done",
        after,
    ),
    "deciding the outcome": (funded, lambda: services, "close_if_due", after),
    "after reading the balance": (funded, gateway, "available_balance", after),
    "after the transfer, before booking": (funded, lambda: services, "payout_succeeded", before),
    "booking the payout, before the commit": (funded, lambda: services, "payout_succeeded", after),
    "before marking settled (payout)": (funded, lambda: services, "mark_settled_if_done", before),
}


@pytest.mark.parametrize("point", CRASHES)
def test_a_run_killed_between_two_steps_is_resumed_once_its_lease_expires(
    app, creator, project, stripe_fake, clock, runner, point
):
    setup, target, name, how = CRASHES[point]
    outcome = setup(app, stripe_fake, creator, project, clock)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(app.config, "SETTLEMENT_WORKERS", 1)  # one refund at a time: a sharp kill
        mp.setattr(services, "release", lambda project_id: None)  # dead: no cleanup runs
        mp.setattr(target(), name, how(getattr(target(), name)))
        with pytest.raises(Killed):
            settlement.settle_due()
    db.session.rollback()  # its connection is gone: the database rolled back what was open

    db.session.refresh(project)
    assert project.settled_at is None
    assert project.settlement_lease_until > clock.now()  # the dead run's lease is still there
    assert settle(runner) == "Nothing to settle.\n"  # so nobody else touches the project

    clock.advance(seconds=app.config["SETTLEMENT_LEASE_SECONDS"] + 1)
    assert ", settled" in settle(runner)
    assert_settled_exactly_once(project, stripe_fake, outcome)


# ---- refusals ---------------------------------------------------------------------------


def test_a_refund_stripe_refuses_waits_for_a_human_and_the_project_stays_unsettled(
    app, creator, project, stripe_fake, clock, runner, monkeypatch
):
    monkeypatch.setitem(app.config, "SETTLEMENT_WORKERS", 1)
    failing(app, stripe_fake, creator, project, clock)
    stripe_fake.fault("/v1/refunds", 400, count=1, method="POST")

    assert WORK_LEFT in settle(runner)
    db.session.expire_all()
    (refused,) = db.session.scalars(select(Refund).where(Refund.status == RefundStatus.FAILED))
    assert refused.failure_message
    pledge = refused.pledge
    assert pledge.status is PledgeStatus.REFUND_FAILED
    assert pledge.end_reason == REFUND_REFUSED  # what the backer reads, in their language
    assert refused.failure_message in pledge.attention  # Stripe's words, for the moderators
    assert pledge in pledge_services.needing_attention()
    others = [p for p in pledges_of(project) if p.id != pledge.id]
    assert {p.status for p in others} == {PledgeStatus.REFUNDED}
    # The money is still in escrow, and the books say so.
    assert ledger.balance(ledger.escrow(project.id)) == pledge.total
    assert books.check() == []
    db.session.refresh(project)
    assert project.status.value == "failed" and project.settled_at is None

    # Later sweeps do not call Stripe for it again, nor settle the project around it.
    calls = len(stripe_fake.requests("/v1/refunds", "POST"))
    assert WORK_LEFT in settle(runner)
    assert len(stripe_fake.requests("/v1/refunds", "POST")) == calls
    db.session.refresh(project)
    assert project.settled_at is None

    # Once an admin has retried it (with a new key), the next sweep settles the project.
    checkout.retry_refused_refund(pledge.id)
    assert ", settled" in settle(runner)
    assert_settled_exactly_once(project, stripe_fake, "failed")
