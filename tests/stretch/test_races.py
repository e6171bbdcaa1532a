"""A stretch goal is reached once when pledges arrive at the same moment (real threads, each
with its own session and connection; run on PostgreSQL with TEST_DATABASE_URL, and on SQLite).

The conditional UPDATE (``... WHERE reached_at IS NULL``) is the guard: the second of two
transactions waits for the first's row lock (the database's write lock on SQLite), then finds
the goal stamped and announces nothing, so each backer is mailed once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Outbox
from app.pledges import checkout
from app.pledges.models import Payment
from app.pledges.services import Terms
from app.stretch import services as stretch
from app.stretch.models import StretchGoal
from tests.helpers import gen_user
from tests.helpers.notifications import gen_held_pledges

KIND = "stretch_goal_reached"


def run_at_once(app, ops: list[Callable[[], object]]) -> list[object]:
    """Each op in its own thread, app context and connection, started together."""
    db.session.remove()
    barrier = threading.Barrier(len(ops), timeout=30)
    results: list[object] = [None] * len(ops)

    def worker(i: int, op: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[i] = op()
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


def stretch_rows() -> list[Outbox]:
    db.session.expire_all()
    return list(db.session.scalars(select(Outbox).where(Outbox.kind == KIND)))


def test_eight_transactions_reaching_at_once_stamp_the_goal_once(app, creator, project):
    goal = stretch.add_goal(project, {"amount": 110_000, "title": "Gold", "description": ""})
    db.session.commit()
    goal_id, project_id = goal.id, project.id
    gen_held_pledges(project, 3, amount=50_000)  # $1,500: past the goal, not stamped yet

    def reach() -> list[int]:
        won = stretch.reach(project_id)
        time.sleep(0.05)  # the others' UPDATEs arrive while this one holds the row
        db.session.commit()
        return won

    results = run_at_once(app, [reach] * 8)
    assert sorted(map(str, results)) == sorted(["[]"] * 7 + [f"[{goal_id}]"]), results
    rows = stretch_rows()
    assert len(rows) == 3 and len({r.user_id for r in rows}) == 3
    assert db.session.get(StretchGoal, goal_id).reached_at is not None


def test_two_pledges_landing_at_once_reach_the_goal_once(app, creator, project, stripe_fake):
    """Each of the two pledges takes the total past the goal on its own: whichever commits
    first reaches it and its backers are mailed; the other finds it reached."""
    goal = stretch.add_goal(project, {"amount": 105_000, "title": "Gold", "description": ""})
    db.session.commit()
    goal_id, project_id, tier_id = goal.id, project.id, project.tiers[0].id
    gen_held_pledges(project, 2, amount=50_000)  # $1,000
    payments = []
    for n in range(2):
        backer = gen_user(f"racer{n}@example.com", f"Racer {n}")
        started = checkout.begin_pledge(backer.id, project_id, Terms(tier_id, 10_000))
        intent = db.session.get(Payment, started.payment_id).stripe_payment_intent_id
        db.session.commit()
        stripe_fake.pay(intent)
        payments.append(started.payment_id)

    results = run_at_once(app, [lambda p=p: checkout.confirm(p).status for p in payments])
    assert results == ["held", "held"], results
    rows = stretch_rows()
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys))  # nobody twice
    assert all(k.startswith(f"stretch:{goal_id}:") for k in keys)
    assert 3 <= len(rows) <= 4  # the two earlier backers and the winner (and the other, if
    # its pledge had committed before the winner's transaction read the backers)
    assert db.session.get(StretchGoal, goal_id).reached_at is not None
