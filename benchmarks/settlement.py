"""Settle N pledges against a simulated Stripe and print the rates achieved.

    .venv/bin/python -m benchmarks.settlement --pledges 500 --latency 0.2 --rate-limit 25
    .venv/bin/python -m benchmarks.settlement --pledges 20000 --latency 0 --rate-limit 0 \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

A failed project with N held pledges (each with its succeeded payment and its ledger entry,
written in bulk) is settled by the real settlement code; only the Stripe calls are simulated
(``devtools.simgateway``: a set latency, a server-side rate limit answering 429). With a
PostgreSQL URL a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, make_url, select

from app import clock, create_app
from app.accounts.models import User
from app.extensions import db
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Category, Project
from app.rewards.models import RewardTier
from devtools.simgateway import SimulatedGateway


def scratch_database(url: str | None):
    if not url or not url.startswith("postgres"):
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: None
    import psycopg

    server = make_url(url).set(drivername="postgresql")
    name = f"crowdfund_bench_{uuid.uuid4().hex[:8]}"
    admin = server.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    scratch = server.set(drivername="postgresql+psycopg", database=name)
    return scratch.render_as_string(hide_password=False), drop


def seed(n: int) -> int:
    """A live project past its deadline, below its goal, with n held pledges."""
    now = clock.now()
    creator = User(email="creator@bench.test", display_name="Creator", password_hash="!")  # noqa: S106 - no login
    db.session.add(creator)
    db.session.flush()
    category = db.session.scalar(select(Category).limit(1))
    project = Project(
        owner_id=creator.id,
        title="Benchmark",
        blurb="",
        story="",
        category_id=category.id,
        currency="USD",
        goal_amount=10**12,
        duration_days=30,
        status=ProjectStatus.LIVE,
        launched_at=now - timedelta(days=30),
        deadline=now - timedelta(seconds=1),
        pledged_amount=2500 * n,
        backer_count=n,
    )
    db.session.add(project)
    db.session.flush()
    tier = RewardTier(
        project_id=project.id,
        title="Thanks",
        minimum_amount=1000,
        estimated_delivery=now.date(),
        claimed=n,
    )
    db.session.add(tier)
    db.session.flush()
    for start in range(0, n, 5000):
        count = min(5000, n - start)
        users = (
            db.session.execute(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"b{start + i}@bench.test",
                        "display_name": f"B{start + i}",
                        "password_hash": "x",
                        "role": "user",
                        "created_at": now,
                    }
                    for i in range(count)
                ],
            )
            .scalars()
            .all()
        )
        pledges = (
            db.session.execute(
                insert(Pledge).returning(Pledge.id),
                [
                    {
                        "project_id": project.id,
                        "backer_id": uid,
                        "tier_id": tier.id,
                        "currency": "USD",
                        "amount": 2500,
                        "shipping_fee": 0,
                        "status": PledgeStatus.HELD,
                        "created_at": now,
                        "held_at": now,
                        "end_reason": "",
                        "disputed": False,
                    }
                    for uid in users
                ],
            )
            .scalars()
            .all()
        )
        db.session.execute(
            insert(Payment),
            [
                {
                    "pledge_id": pid,
                    "amount": 2500,
                    "currency": "USD",
                    "status": PaymentStatus.SUCCEEDED,
                    "idempotency_key": f"bench-pay-{pid}",
                    "stripe_payment_intent_id": f"pi_bench_{pid}",
                    "target_tier_id": tier.id,
                    "target_amount": 2500,
                    "target_shipping_fee": 0,
                    "expires_at": now,
                    "created_at": now,
                    "failure_message": "",
                }
                for pid in pledges
            ],
        )
        txns = (
            db.session.execute(
                insert(LedgerTransaction).returning(LedgerTransaction.id),
                [
                    {
                        "kind": "charge",
                        "source": f"bench:{pid}",
                        "project_id": project.id,
                        "pledge_id": pid,
                        "currency": "USD",
                        "created_at": now,
                    }
                    for pid in pledges
                ],
            )
            .scalars()
            .all()
        )
        entries = []
        for txn, uid in zip(txns, users, strict=True):
            entries.append(
                {
                    "transaction_id": txn,
                    "account": f"backer:{uid}",
                    "amount": -2500,
                    "currency": "USD",
                }
            )
            entries.append(
                {
                    "transaction_id": txn,
                    "account": f"escrow:{project.id}",
                    "amount": 2500,
                    "currency": "USD",
                }
            )
        db.session.execute(insert(LedgerEntry), entries)
    db.session.commit()
    return project.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per Stripe call")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=25,
        help="Stripe calls per second (0: unlimited, to measure bookkeeping)",
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()

    url, drop = scratch_database(args.database_url)
    try:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "benchmark",
                "SETTLEMENT_WORKERS": args.workers,
                "STRIPE_RATE_LIMIT": args.rate_limit,
            },
            instance_path=tempfile.mkdtemp(),
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            started = time.perf_counter()
            project_id = seed(args.pledges)
            if db.engine.dialect.name == "postgresql":
                # As autovacuum would have by then: planner statistics for the bulk-loaded rows.
                with db.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            seeded = time.perf_counter() - started
            sim = SimulatedGateway(latency=args.latency, rate_limit=args.rate_limit)
            app.extensions["payments_gateway"] = sim
            from app.audit import books
            from app.settlement import runner

            started = time.perf_counter()
            reports = runner.settle_due(project_id)
            elapsed = time.perf_counter() - started
            refunded = db.session.scalar(
                select(db.func.count())
                .select_from(Pledge)
                .where(Pledge.status == PledgeStatus.REFUNDED)
            )
            problems = books.check(project_id)
            db.session.commit()
        rate = refunded / elapsed
        print(f"database          {make_url(url).get_backend_name()}")
        print(f"pledges           {args.pledges} (seeded in {seeded:.1f} s)")
        print(f"latency           {args.latency * 1000:.0f} ms per call, {args.workers} workers")
        print(f"rate limit        {args.rate_limit}/s")
        print(f"refunded          {refunded} in {elapsed:.2f} s = {rate:.1f} pledges/s")
        if args.rate_limit:
            print(f"of the limit      {rate / args.rate_limit:.2f}")
        print(f"gateway calls     {sim.calls}, 429s answered {sim.rejected}")
        print(f"settled           {reports[0].settled if reports else False}")
        print(f"ledger check      {'OK' if not problems else problems[:3]}")
    finally:
        drop()


if __name__ == "__main__":
    main()
