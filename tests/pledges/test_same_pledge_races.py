"""Two requests on the same pledge at the same moment (real threads, each with its own session
and connection; on PostgreSQL, and on SQLite, where FOR UPDATE does nothing and the pledge's
version write takes the database's lock instead): every pair of {reduce, increase, cancel,
the pay page's return, the webhook, the expiry sweep, settlement's claim as the deadline
passes}, many times over.

After each race the money must add up, whatever order the two happened in: no answer but a
clear refusal (never an error), the ledger balanced against the pledges, the project's totals
equal to its held pledges, and Stripe's charges minus refunds equal to what the books hold.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import clock
from app import clock as app_clock
from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.pledges import checkout
from app.pledges.domain import PledgeRefused, PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.pledges.services import Terms
from app.projects.models import Project
from app.settlement import runner as settlement
from tests.helpers import gen_project, gen_user

ROUNDS = 4  # per pair and mode: each round is a fresh pledge
PLEDGE = 10_000  # $100 held before the race
Op = Callable[[], str]


class Race:
    """One pledge, held for $100, and the two requests that race on it."""

    def __init__(self, app, stripe_fake, project: Project, n: int) -> None:
        self.app, self.fake = app, stripe_fake
        self.project_id, self.tier_id = project.id, project.tiers[0].id
        backer = gen_user(f"racer{n}-{uuid.uuid4().hex[:6]}@example.com", f"Racer {n}")
        started = checkout.begin_pledge(backer.id, project.id, Terms(self.tier_id, PLEDGE))
        self.pledge_id = started.pledge_id
        self._pay(started.payment_id)
        assert checkout.confirm(started.payment_id).status == "held"
        self.payment_id: int | None = None  # an open increase, once ``open_increase`` ran
        self.intent: dict = {}
        self.version = self._version()

    def _version(self) -> int:
        version = db.session.scalar(select(Pledge.version).where(Pledge.id == self.pledge_id))
        db.session.commit()
        return version

    def _pay(self, payment_id: int) -> None:
        intent = db.session.get(Payment, payment_id).stripe_payment_intent_id
        db.session.commit()
        self.fake.pay(intent)

    # ---- what may be set up before the race -------------------------------------------

    def open_increase(self, paid: bool, expired: bool = False) -> None:
        """An increase to $150 whose payment is open; paid at Stripe (the card confirmed) or
        not; its reservation run out, so the expiry sweep takes it."""
        changed = checkout.begin_change(self.pledge_id, Terms(self.tier_id, 15_000))
        assert changed.pays
        self.payment_id = db.session.scalar(
            select(Payment.id).where(
                Payment.pledge_id == self.pledge_id, Payment.status == PaymentStatus.PENDING
            )
        )
        db.session.commit()
        if paid:
            self._pay(self.payment_id)
            intent_id = db.session.get(Payment, self.payment_id).stripe_payment_intent_id
            db.session.commit()
            self.intent = self.fake.http.get(
                f"{self.fake.url}/v1/payment_intents/{intent_id}",
                auth=("sk_test_offline", ""),
                timeout=10,
            ).json()
        if expired:
            db.session.execute(
                update(Payment)
                .where(Payment.id == self.payment_id)
                .values(expires_at=clock.now() - timedelta(seconds=1))
            )
            db.session.commit()
        self.version = self._version()

    def deadline_in(self, seconds: float) -> None:
        db.session.execute(
            update(Project)
            .where(Project.id == self.project_id)
            .values(deadline=clock.now() + timedelta(seconds=seconds))
        )
        db.session.commit()

    # ---- the requests ---------------------------------------------------------------

    def change(self, to: int, versioned: bool) -> Op:
        def op() -> str:
            version = self.version if versioned else None
            changed = checkout.begin_change(self.pledge_id, Terms(self.tier_id, to), version)
            return "pay" if changed.pays else "changed"

        return op

    def cancel(self, versioned: bool) -> Op:
        def op() -> str:
            checkout.cancel(self.pledge_id, self.version if versioned else None)
            return "cancelled"

        return op

    def return_page(self) -> Op:
        return lambda: checkout.confirm(self.payment_id).status

    def webhook(self) -> Op:
        event_id = f"evt_race_{uuid.uuid4().hex}"
        return lambda: checkout.handle_event(event_id, "payment_intent.succeeded", self.intent)

    def sweep(self) -> Op:
        return lambda: f"swept {checkout.sweep_expired_payments()}"

    def settle_at_deadline(self) -> Op:
        def op() -> str:
            time.sleep(0.05)  # the deadline passes while the other request runs
            reports = settlement.settle_due(self.project_id)
            return ",".join(r.outcome for r in reports) or "nothing due"

        return op

    def run(self, *ops: Op) -> list[str]:
        """The requests at the same moment, each in its own thread, session and connection.

        As on a busy server, a request may pause between any two steps: each look at the
        clock waits up to 20 ms, so a request that decides from what it read before taking
        the pledge is caught by the other request's commit in between."""
        db.session.remove()
        real_now = app_clock.now

        def busy_now():
            time.sleep(random.uniform(0, 0.02))
            return real_now()

        app_clock.now = busy_now
        try:
            return self._run(ops)
        finally:
            app_clock.now = real_now

    def _run(self, ops: tuple[Op, ...]) -> list[str]:
        barrier = threading.Barrier(len(ops), timeout=30)
        results: list[str] = [""] * len(ops)

        def worker(i: int, op: Op) -> None:
            with self.app.app_context():
                try:
                    barrier.wait(timeout=10)
                    results[i] = op()
                except PledgeRefused as refusal:
                    db.session.rollback()
                    results[i] = f"refused: {refusal}"
                except Exception as error:  # a 500 for a real user: the test fails
                    db.session.rollback()
                    results[i] = f"ERROR {type(error).__name__}: {error}"
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker, args=(i, op)) for i, op in enumerate(ops)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a request hung: a deadlock?"
        return results

    def pay_what_is_open(self) -> list[str]:
        """Afterwards the backer pays on the pay page whatever payment is still open."""
        open_ids = db.session.scalars(
            select(Payment.id).where(
                Payment.pledge_id == self.pledge_id, Payment.status == PaymentStatus.PENDING
            )
        ).all()
        db.session.commit()
        results = []
        for payment_id in open_ids:
            self._pay(payment_id)
            results.append(f"paid later: {checkout.confirm(payment_id).status}")
        return results

    # ---- what must hold after it --------------------------------------------------------

    def check(self, results: list[str]) -> None:
        errors = [r for r in results if r.startswith("ERROR")]
        assert not errors, results
        db.session.expire_all()
        assert books.check(self.project_id) == [], results
        pledge = db.session.get(Pledge, self.pledge_id)
        paid = sum(p.amount for p in pledge.payments if p.status is PaymentStatus.SUCCEEDED)
        back = sum(r.amount for r in pledge.refunds if r.status is RefundStatus.SUCCEEDED)
        in_escrow = ledger.balance(ledger.escrow(self.project_id))
        project = db.session.get(Project, self.project_id)
        # Stripe's side of the same pledge: what its intents took, less what was refunded.
        intents = {p.stripe_payment_intent_id for p in pledge.payments}
        charged = sum(
            i["amount"]
            for i in self.fake.objects("payment_intents")
            if i["id"] in intents and i["status"] == "succeeded"
        )
        refunded = sum(
            r["amount"]
            for r in self.fake.objects("refunds")
            if r["payment_intent"] in intents and r["status"] in ("succeeded", "pending")
        )
        assert (charged, refunded) == (paid, back), results
        assert not [r for r in pledge.refunds if r.status is RefundStatus.PENDING], results
        if pledge.status is PledgeStatus.HELD:
            assert paid - back == pledge.total, results  # the reward costs what is held
        if pledge.status in (PledgeStatus.REFUNDED, PledgeStatus.FAILED):
            assert paid == back, results
        if project.status.value == "live":  # the goal counts exactly the held pledges
            held = db.session.scalars(
                select(Pledge).where(
                    Pledge.project_id == self.project_id, Pledge.status == PledgeStatus.HELD
                )
            ).all()
            assert project.pledged_amount == sum(p.total for p in held), results
            assert project.backer_count == len(held), results
            assert in_escrow >= project.pledged_amount, results
        db.session.commit()


@pytest.fixture
def live_project(app) -> int:
    creator = gen_user("race-creator@example.com", "Cora")
    return gen_project(creator, "live", goal=100_000_000).id  # never funded: refunds on failure


def race_rounds(app, stripe_fake, live_project, setup, ops, fresh_project=False) -> list[list]:
    outcomes = []
    for n in range(ROUNDS):
        project = db.session.get(Project, live_project)
        if fresh_project:
            project = gen_project(project.owner, "live", goal=100_000_000, title=f"Race {n}")
        race = Race(app, stripe_fake, project, n)
        setup(race)
        results = race.run(*ops(race))
        race.check(results)
        results += race.pay_what_is_open()
        race.check(results)
        outcomes.append(results)
    return outcomes


HELD_PAIRS = {
    "reduce+reduce": lambda r, v: (r.change(6_000, v), r.change(4_000, v)),
    "reduce+reduce (same amount)": lambda r, v: (r.change(6_000, v), r.change(6_000, v)),
    "cancel+reduce": lambda r, v: (r.cancel(v), r.change(6_000, v)),
    "cancel+increase": lambda r, v: (r.cancel(v), r.change(15_000, v)),
    "cancel+cancel": lambda r, v: (r.cancel(v), r.cancel(v)),
    "increase+reduce": lambda r, v: (r.change(15_000, v), r.change(6_000, v)),
    "increase+increase": lambda r, v: (r.change(15_000, v), r.change(20_000, v)),
}


@pytest.mark.parametrize("versioned", [True, False], ids=["two tabs", "no version"])
@pytest.mark.parametrize("pair", list(HELD_PAIRS))
def test_two_changes_of_a_held_pledge(app, stripe_fake, live_project, pair, versioned):
    outcomes = race_rounds(
        app, stripe_fake, live_project, lambda r: None, lambda r: HELD_PAIRS[pair](r, versioned)
    )
    if versioned:  # both decided on the same page: the second is told it moved, never both
        for results in outcomes:
            assert any(r.startswith("refused") for r in results), results


OPEN_PAYMENT_PAIRS = {
    # (the open increase is paid at Stripe?, its reservation expired?, the two requests)
    "return+webhook": (True, False, lambda r: (r.return_page(), r.webhook())),
    "return+return": (True, False, lambda r: (r.return_page(), r.return_page())),
    "return+cancel": (True, False, lambda r: (r.return_page(), r.cancel(False))),
    "return+reduce": (True, False, lambda r: (r.return_page(), r.change(6_000, False))),
    "webhook+cancel": (True, False, lambda r: (r.webhook(), r.cancel(False))),
    "webhook+reduce": (True, False, lambda r: (r.webhook(), r.change(6_000, False))),
    "return+sweep (paid, expired)": (True, True, lambda r: (r.return_page(), r.sweep())),
    "webhook+sweep (paid, expired)": (True, True, lambda r: (r.webhook(), r.sweep())),
    "sweep+cancel (unpaid, expired)": (False, True, lambda r: (r.sweep(), r.cancel(False))),
    "sweep+increase (unpaid, expired)": (
        False,
        True,
        lambda r: (r.sweep(), r.change(20_000, False)),
    ),
    "sweep+sweep (unpaid, expired)": (False, True, lambda r: (r.sweep(), r.sweep())),
}


@pytest.mark.parametrize("pair", list(OPEN_PAYMENT_PAIRS))
def test_an_open_increase_and_another_request(app, stripe_fake, live_project, pair):
    paid, expired, ops = OPEN_PAYMENT_PAIRS[pair]
    race_rounds(app, stripe_fake, live_project, lambda r: r.open_increase(paid, expired), ops)


DEADLINE_PAIRS = {
    "reduce+claim": (None, lambda r: (r.change(6_000, False), r.settle_at_deadline())),
    "increase+claim": (None, lambda r: (r.change(15_000, False), r.settle_at_deadline())),
    "cancel+claim": (None, lambda r: (r.cancel(False), r.settle_at_deadline())),
    "return+claim": (True, lambda r: (r.return_page(), r.settle_at_deadline())),
    "webhook+claim": (True, lambda r: (r.webhook(), r.settle_at_deadline())),
}


@pytest.mark.parametrize("pair", list(DEADLINE_PAIRS))
def test_a_request_as_the_deadline_passes_and_settlement_claims(
    app, stripe_fake, live_project, pair
):
    increase_paid, ops = DEADLINE_PAIRS[pair]

    def setup(race: Race) -> None:
        if increase_paid is not None:
            race.open_increase(paid=increase_paid)
        race.deadline_in(0.05)

    race_rounds(app, stripe_fake, live_project, setup, ops, fresh_project=True)
    # Then the project settles as it failed: every cent goes back, nothing is left open.
    db.session.execute(
        update(Payment)
        .where(Payment.status == PaymentStatus.PENDING)
        .values(expires_at=clock.now() - timedelta(seconds=1))
    )
    db.session.commit()
    checkout.sweep_expired_payments()
    settlement.settle_due()
    db.session.expire_all()
    assert books.check() == []
    for project in db.session.scalars(select(Project).where(Project.title.like("Race %"))):
        assert (project.status.value, project.settled_at is not None) == ("failed", True)
        assert ledger.balance(ledger.escrow(project.id)) == 0
    statuses = set(db.session.scalars(select(Pledge.status)))
    assert statuses <= {PledgeStatus.REFUNDED, PledgeStatus.FAILED}, statuses
    refunds = db.session.scalars(select(Refund.status)).all()
    assert set(refunds) == {RefundStatus.SUCCEEDED}


@pytest.mark.postgres
def test_a_refused_reduction_refund_and_a_cancellation_at_once_leave_nothing_stuck(
    app, stripe_fake, live_project
):
    """A reduction's refund is refused by Stripe at the moment the backer cancels. The refusal
    used to decide from the pledge without taking it: it saw the pledge held (nothing to do),
    while the cancellation, not seeing the refusal yet, refunded only what the reduction had
    not: $40 stayed in escrow and the pledge stayed "refunding" with nothing under way (the
    campaign simulation found it). Now the refusal takes the pledge first, so the cancellation
    sees it and refunds everything."""
    from app.pledges import services

    race = Race(app, stripe_fake, db.session.get(Project, live_project), 0)
    reduced = services.change_pledge(race.pledge_id, Terms(race.tier_id, 6_000), clock.now())
    reduction_refund = reduced.refunds[0].id
    db.session.commit()

    def refuse() -> str:
        services.refund_refused(reduction_refund, "Refunds are not possible on this charge.")
        time.sleep(0.4)  # the request is still busy when the cancellation comes in
        db.session.commit()
        return "refused"

    def cancel() -> str:
        time.sleep(0.1)
        planned = services.cancel_pledge(race.pledge_id, clock.now())
        db.session.commit()
        return f"cancelled: {sum(r.amount for r in planned)}"

    results = race.run(refuse, cancel)
    assert results == ["refused", "cancelled: 10000"], results
    (refund,) = db.session.scalars(select(Refund).where(Refund.status == RefundStatus.PENDING))
    assert services.refund_succeeded(refund.id, "re_whole")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Pledge, race.pledge_id).status is PledgeStatus.REFUNDED
    assert ledger.balance(ledger.escrow(race.project_id)) == 0
    assert books.check(race.project_id) == []
