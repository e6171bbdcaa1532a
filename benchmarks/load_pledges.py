"""Drive pledges at one hot project through gunicorn and PostgreSQL; print what was achieved.

    .venv/bin/python -m benchmarks.load_pledges --rate 1000 --duration 60
    .venv/bin/python -m benchmarks.load_pledges --rate 200 --duration 10

A script, not a test. It creates a scratch PostgreSQL database, migrates it, seeds one live
project with a limited tier (``--limit`` places) and an unlimited one, and one backer account
per scheduled pledge; then it starts gunicorn on a free loopback port serving
``benchmarks.loadapp:app`` (the real app with ``devtools.simgateway.SimulatedGateway``: every
Stripe call sleeps ``--latency`` and nothing leaves the machine) and sends pledges open-loop:
pledge i is due at ``i / rate`` seconds whatever happened to the ones before, so its latency,
measured from when it was due, includes any queueing. At most ``--max-in-flight`` pledges are
open at once; a pledge due while that many are open is shed (counted, never sent).

One pledge is what a backer's browser does, less the pages it reads on the way:

1. ``POST /projects/<id>/back`` with the pledge form and its CSRF token: reserves a place in
   the tier (the conditional UPDATE), writes the pending pledge and its payment, creates the
   backer's Stripe customer and the PaymentIntent, answers 302 to the pay page. When the tier
   is sold out the form comes back (200) saying so: the backer got an answer, no pledge.
2. ``GET /pledges/<id>/complete``, where the browser returns once Stripe.js confirmed the
   card: the server reads the PaymentIntent back (simulated as succeeded), books the payment
   once (ledger, project totals) and holds the pledge; 302 to the pledge.

CSRF stays on. Log in is not measured: each backer's signed session cookie (logged in, with
its CSRF token) is made beforehand with the app's own Flask-Login and Flask-WTF code: what
logging in puts in the session. Passwords get a cheap pbkdf2 hash. At the end it prints
throughput, latency percentiles, errors, the places sold in the limited tier against its limit
(from the database), the ledger check, and the CPU used by gunicorn, PostgreSQL, the client
and everything else (the machine may be shared); it stops gunicorn and drops the database,
also on Ctrl-C. Every loop is bounded: ``--max-pledges`` caps the pledges and a request times out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, make_url, select

from app import clock, create_app
from app.accounts.models import User
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Category, Project
from app.rewards.models import RewardTier
from benchmarks.settlement import scratch_database

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "backstage-load/1"
SECRET = "load-test-secret-key-not-for-production"  # noqa: S105 - a scratch run's key
CHEAP_HASH = "pbkdf2:sha256:1000"
LIMITED_MIN, OPEN_MIN = 2500, 1000  # minor units (USD)
HARD_MAX_PLEDGES = 200_000


# ---- the data -----------------------------------------------------------------------------


def seed(backers: int, limit: int) -> tuple[int, int, int, list[int]]:
    """One live project with a limited and an unlimited tier, and the backers' accounts."""
    from werkzeug.security import generate_password_hash

    now = clock.now()
    creator = User(email="creator@load.test", display_name="Creator", password_hash="!")  # noqa: S106 - no login
    db.session.add(creator)
    db.session.flush()
    project = Project(
        owner_id=creator.id,
        title="Hot project",
        blurb="Everyone wants one",
        story="",
        category_id=db.session.scalar(select(Category.id).limit(1)),
        currency="USD",
        goal_amount=10**9,
        duration_days=30,
        status=ProjectStatus.LIVE,
        launched_at=now - timedelta(days=1),
        deadline=now + timedelta(days=29),
    )
    db.session.add(project)
    db.session.flush()
    limited = RewardTier(
        project_id=project.id,
        title="Early bird",
        minimum_amount=LIMITED_MIN,
        quantity_limit=limit,
        estimated_delivery=now.date().replace(day=1),
    )
    unlimited = RewardTier(
        project_id=project.id,
        title="Supporter",
        minimum_amount=OPEN_MIN,
        estimated_delivery=now.date().replace(day=1),
    )
    db.session.add_all([limited, unlimited])
    db.session.flush()
    password_hash = generate_password_hash("load-test-password", method=CHEAP_HASH)
    ids: list[int] = []
    for start in range(0, backers, 10_000):
        rows = [
            {
                "email": f"b{i}@load.test",
                "display_name": f"Backer {i}",
                "password_hash": password_hash,
                "role": "user",
                "created_at": now,
            }
            for i in range(start, min(backers, start + 10_000))
        ]
        ids.extend(db.session.scalars(insert(User).returning(User.id), rows).all())
    db.session.commit()
    with db.engine.connect() as conn:  # planner statistics, as autovacuum would have them
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return project.id, limited.id, unlimited.id, ids


def session_cookies(app, backer_ids: list[int]) -> list[tuple[str, str]]:
    """(session cookie, CSRF form token) per backer: what logging in would have set.

    Made with Flask-Login's ``login_user`` and Flask-WTF's ``generate_csrf`` in a request
    from 127.0.0.1 with the load client's User-Agent, so the "strong" session protection's
    identifier matches the real requests.
    """
    from flask import g, session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from app.accounts import sessions

    serializer = app.session_interface.get_signing_serializer(app)
    out = []
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
    ):
        for user_id in backer_ids:
            session.clear()
            g.pop("csrf_token", None)
            # A server-side session as a log in makes (app/accounts/sessions.py).
            user = db.session.get(User, user_id)
            sessions.start(user, "127.0.0.1", USER_AGENT, remember=False)
            login_user(user)
            token = generate_csrf()
            out.append((serializer.dumps(dict(session)), token))
        db.session.commit()
    return out


@dataclass
class Sold:
    limit: int
    claimed: int
    open_pledges: int
    held: int
    pending: int


def tier_figures(tier_id: int) -> Sold:
    tier = db.session.get(RewardTier, tier_id)
    counts = dict(
        db.session.execute(
            select(Pledge.status, func.count())
            .where(Pledge.tier_id == tier_id)
            .group_by(Pledge.status)
        ).all()
    )
    held = counts.get(PledgeStatus.HELD, 0)
    pending = counts.get(PledgeStatus.PENDING, 0)
    return Sold(tier.quantity_limit or 0, tier.claimed, held + pending, held, pending)


# ---- gunicorn -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args, url: str, port: int, workdir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "PASSWORD_HASH_METHOD": CHEAP_HASH,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_BACKEND": "log",
        "LOAD_GATEWAY_LATENCY": str(args.latency),
        "LOAD_DB_POOL_SIZE": str(args.pool_size),
        "LOAD_DB_MAX_OVERFLOW": "0",
        "LOAD_DB_PRE_PING": "1" if args.pre_ping else "0",
        "LOAD_INSTANCE_PATH": str(workdir),
        "QUEUE_TIMEOUT_SECONDS": str(args.queue_timeout),
    }
    for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "IDEMPOTENCY_PREFIX"):
        env.pop(key, None)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", args.worker_class,
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--backlog", "4096",
        "--keep-alive", "30",
        "--timeout", "120",
        "--graceful-timeout", "10",
        "--log-level", "warning",
        "--error-logfile", str(workdir / "gunicorn.log"),
        "benchmarks.loadapp:app",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603 - our venv's gunicorn
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}: see its log above")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    stop_gunicorn(process)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop_gunicorn(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the master and its workers
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# ---- where the CPU went (the machine may be shared) ---------------------------------------


def cpu_snapshot(server_pgid: int, database: str) -> Counter:
    """CPU seconds so far: gunicorn (its process group), this client, PostgreSQL's backends
    of the scratch database, and the whole machine (``busy``)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: Counter = Counter()
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    seconds["busy"] = (sum(fields[:8]) - fields[3] - fields[4]) / tick  # less idle, iowait
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        used = (int(stat[11]) + int(stat[12])) / tick
        if int(stat[2]) == server_pgid:
            seconds["gunicorn"] += used
        elif int(entry) == os.getpid():
            seconds["client"] += used
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            seconds["postgres"] += used
    return seconds


def cpu_line(before: Counter, after: Counter, window: float, answered: int, rate: float) -> str:
    used = {k: (after[k] - before[k]) / window for k in ("busy", "gunicorn", "postgres", "client")}
    other = max(0.0, used["busy"] - used["gunicorn"] - used["postgres"] - used["client"])
    line = (
        f"cores used        gunicorn {used['gunicorn']:.2f}, PostgreSQL backends "
        f"{used['postgres']:.2f}, load client {used['client']:.2f}, everything else {other:.2f}"
        f" (of {os.cpu_count()})"
    )
    if answered:
        per = {k: (after[k] - before[k]) / answered * 1000 for k in ("gunicorn", "postgres")}
        line += (
            f"\ncpu per answer    {per['gunicorn']:.1f} ms in gunicorn + {per['postgres']:.1f} ms"
            " in PostgreSQL backends, per pledge answered"
            f"\ncores for target  {rate:g} pledges/s at that cost: about "
            f"{per['gunicorn'] * rate / 1000:.1f} for gunicorn + "
            f"{per['postgres'] * rate / 1000:.1f} for PostgreSQL"
        )
    return line


# ---- the load -----------------------------------------------------------------------------


@dataclass
class Results:
    due: int = 0
    sent: int = 0
    shed: int = 0
    unfinished: int = 0
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    pledge_latency: list[float] = field(default_factory=list)  # due -> completed (held)
    start_latency: list[float] = field(default_factory=list)  # due -> 302 to pay
    complete_latency: list[float] = field(default_factory=list)  # sent -> 302 (complete)
    soldout_latency: list[float] = field(default_factory=list)  # due -> sold-out answer
    busy_latency: list[float] = field(default_factory=list)  # due -> 503 "very busy" answer
    requests: int = 0
    finished_at: list[float] = field(default_factory=list)  # seconds after the first due
    send_lag: float = 0.0  # how far behind schedule the client sent, at worst
    window: float = 0.0
    cpu: str = ""


PAY = re.compile(r"/pledges/(\d+)/pay$")
SHOW = re.compile(r"/pledges/(\d+)$")


async def drive(
    args, port: int, project_id: int, tiers: tuple[int, int], creds, server_pgid: int, database: str
) -> Results:
    import aiohttp

    results = Results(due=len(creds))
    limited, unlimited = tiers
    # Deterministic mix: every k-th backer wants the limited tier.
    every = max(1, round(1 / args.limited_share)) if args.limited_share > 0 else 0
    connector = aiohttp.TCPConnector(limit=args.max_in_flight, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    loop = asyncio.get_running_loop()
    base = f"http://127.0.0.1:{port}"
    back_url = f"{base}/projects/{project_id}/back"

    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),  # each backer sends its own cookie
        headers={"User-Agent": USER_AGENT},
    ) as http:

        async def request(method: str, url: str, cookie: str, data=None):
            results.requests += 1
            async with http.request(
                method,
                url,
                data=data,
                allow_redirects=False,
                # The client stands in for the reverse proxy, which stamps each request.
                headers={"Cookie": f"session={cookie}", "X-Request-Start": f"t={time.time():.3f}"},
            ) as answer:
                body = await answer.text() if answer.status == 200 else ""
                return answer.status, answer.headers.get("Location", ""), body

        async def pledge(i: int, due: float) -> None:
            cookie, token = creds[i]
            wants_limited = every and i % every == 0
            form = {
                "csrf_token": token,
                "tier_id": str(limited if wants_limited else unlimited),
                "amount": f"{(LIMITED_MIN if wants_limited else OPEN_MIN) / 100:.2f}",
                "shipping_country": "",
            }
            stage = "back"
            try:
                status, location, body = await request("POST", back_url, cookie, form)
                match = PAY.search(location) if status == 302 else None
                if match is None:
                    if status == 200 and ("sold out" in body or "Not a valid choice" in body):
                        results.outcomes["sold out (form again)"] += 1
                        results.soldout_latency.append(loop.time() - due)
                    elif status == 503:  # waited too long in the queue: turned away at once
                        results.outcomes["turned away busy (503), nothing reserved"] += 1
                        results.busy_latency.append(loop.time() - due)
                    elif status == 302 and "/login" in location:
                        results.errors["back: redirected to log in"] += 1
                    elif status == 302 and SHOW.search(location):
                        results.errors["back: already backed"] += 1
                    else:
                        results.errors[f"back: HTTP {status}"] += 1
                    return
                results.start_latency.append(loop.time() - due)
                if not args.complete:
                    results.outcomes["started (pending)"] += 1
                    results.pledge_latency.append(loop.time() - due)
                    return
                stage = "complete"
                sent = loop.time()
                pledge_id = match.group(1)
                status, location, _ = await request(
                    "GET", f"{base}/pledges/{pledge_id}/complete", cookie
                )
                if status == 302 and SHOW.search(location):
                    now = loop.time()
                    results.outcomes["completed"] += 1
                    results.complete_latency.append(now - sent)
                    results.pledge_latency.append(now - due)
                    results.finished_at.append(now - first_due)
                elif status == 503:  # paid; Stripe's webhook would book it (none here)
                    results.outcomes["paid, return page turned away busy (503)"] += 1
                else:
                    results.errors[f"complete: HTTP {status} {location[-20:]}"] += 1
            except TimeoutError:
                results.errors[f"{stage}: client timeout ({args.timeout:.0f} s)"] += 1
            except aiohttp.ClientError as error:
                results.errors[f"{stage}: {type(error).__name__}"] += 1

        tasks: set[asyncio.Task] = set()
        cpu_before = cpu_snapshot(server_pgid, database)
        first_due = loop.time() + 0.2
        for i in range(len(creds)):
            due = first_due + i / args.rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                results.send_lag = max(results.send_lag, -delay)
            if len(tasks) >= args.max_in_flight:
                results.shed += 1
                continue
            results.sent += 1
            task = asyncio.create_task(pledge(i, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=args.timeout + 5)
            for task in pending:
                task.cancel()
            results.unfinished = len(pending)
        results.window = loop.time() - first_due
        cpu_after = cpu_snapshot(server_pgid, database)
        results.cpu = cpu_line(
            cpu_before,
            cpu_after,
            loop.time() - first_due + 0.2,
            sum(results.outcomes.values()),
            args.rate,
        )
    return results


# ---- the report ---------------------------------------------------------------------------


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):.0f}  p90 {at(0.90):.0f}  p99 {at(0.99):.0f}  "
        f"max {ordered[-1] * 1000:.0f} ms  (n={len(ordered)})"
    )


def report(args, results: Results, limited: Sold, unlimited: Sold, project, problems, log: str):
    window = max(results.window, 1e-9)
    held = results.outcomes.get("completed", 0)
    answered = sum(results.outcomes.values())
    print()
    print(f"target            {args.rate:g} pledges/s for {args.duration:g} s = {results.due} due")
    print(
        f"server            gunicorn {args.worker_class} {args.workers} workers x {args.threads} "
        "threads, "
        f"DB pool {args.pool_size}/worker, PostgreSQL; simulated Stripe {args.latency * 1000:.0f}"
        " ms/call, CSRF on"
    )
    print(
        f"pledges           sent {results.sent}, shed at the client cap ({args.max_in_flight} "
        f"in flight) {results.shed}, unfinished at the end {results.unfinished}"
    )
    print(
        f"answered          {answered}: "
        + ", ".join(f"{k} {v}" for k, v in results.outcomes.items())
    )
    print(
        f"throughput        {answered / window:.1f} pledges answered/s, "
        f"{held / window:.1f} completed/s, {results.requests / window:.1f} HTTP requests/s "
        f"over {window:.1f} s"
    )
    if results.finished_at:
        per = Counter(int(t // 10) for t in results.finished_at)
        print("completed per 10 s " + " ".join(str(per.get(k, 0)) for k in range(max(per) + 1)))
    print(f"latency pledge    {percentiles(results.pledge_latency)}  (due -> completed)")
    print(f"latency start     {percentiles(results.start_latency)}  (due -> 302 to pay)")
    print(f"latency complete  {percentiles(results.complete_latency)}  (sent -> 302)")
    print(f"latency sold out  {percentiles(results.soldout_latency)}  (due -> form again)")
    print(f"latency busy      {percentiles(results.busy_latency)}  (due -> 503 turned away)")
    print(results.cpu)
    print(f"client lag        at most {results.send_lag * 1000:.0f} ms behind schedule")
    errors = sum(results.errors.values())
    print(
        f"errors            {errors}"
        + "".join(f"\n  {v:6d}  {k}" for k, v in results.errors.most_common())
    )
    ok = limited.claimed <= limited.limit and limited.claimed == limited.open_pledges
    print(
        f"limited tier      {limited.open_pledges} of {limited.limit} places sold "
        f"({limited.held} held, {limited.pending} pending), claimed {limited.claimed}: "
        + ("OK, never over the limit" if ok else "OVERSOLD OR MISCOUNTED")
    )
    print(
        f"unlimited tier    {unlimited.open_pledges} pledges ({unlimited.held} held, "
        f"{unlimited.pending} pending), claimed {unlimited.claimed}"
    )
    print(
        f"project totals    {project.backer_count} backers, "
        f"{project.pledged_amount / 100:,.2f} USD held"
    )
    print(
        f"ledger check      {'OK' if not problems else f'{len(problems)} problems: {problems[:3]}'}"
    )
    tracebacks = log.count("Traceback")
    print(f"server log        {tracebacks} tracebacks" + (f"\n{log[-2000:]}" if tracebacks else ""))
    return ok and not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000, help="pledges due per second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of arrivals")
    parser.add_argument("--limit", type=int, default=1000, help="places in the limited tier")
    parser.add_argument(
        "--limited-share",
        type=float,
        default=0.5,
        help="share of backers who ask for the limited tier",
    )
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per Stripe call")
    parser.add_argument(
        "--worker-class", default="gthread", help="gunicorn worker class (gthread, gevent)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=32, help="threads per worker")
    parser.add_argument("--pool-size", type=int, default=10, help="DB connections per worker")
    parser.add_argument(
        "--no-pre-ping",
        dest="pre_ping",
        action="store_false",
        help="no ping before each pool checkout (the app pings)",
    )
    parser.add_argument("--max-in-flight", type=int, default=512, help="open pledges at most")
    parser.add_argument(
        "--queue-timeout",
        type=int,
        default=10,
        help="the app's QUEUE_TIMEOUT_SECONDS (0: off); the client stamps X-Request-Start",
    )
    parser.add_argument("--max-pledges", type=int, default=100_000, help="pledges due at most")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument(
        "--no-complete",
        dest="complete",
        action="store_false",
        help="only start pledges (no browser return)",
    )
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server; a scratch database is created and dropped",
    )
    args = parser.parse_args()  # fmt: skip
    if not args.database_url.startswith("postgres"):
        parser.error("the load test needs PostgreSQL")
    if args.rate <= 0 or args.duration <= 0 or args.max_in_flight <= 0:
        parser.error("--rate, --duration and --max-in-flight must be positive")
    pledges = min(int(args.rate * args.duration), args.max_pledges, HARD_MAX_PLEDGES)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="load-pledges-"))
    url, drop = scratch_database(args.database_url)
    server = None
    try:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": SECRET,
                "IDEMPOTENCY_PREFIX": "",
                "PASSWORD_HASH_METHOD": CHEAP_HASH,
            },
            instance_path=str(workdir),
        )
        started = time.perf_counter()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            project_id, limited, unlimited, backers = seed(pledges, args.limit)
            db.session.remove()
        creds = session_cookies(app, backers)
        print(f"seeded            1 project, 2 tiers, {len(backers)} backers with sessions in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        port = free_port()
        server = start_gunicorn(args, url, port, workdir)
        print(
            f"gunicorn          http://127.0.0.1:{port} (pid {server.pid}); driving ...", flush=True
        )
        results = asyncio.run(
            drive(
                args,
                port,
                project_id,
                (limited, unlimited),
                creds,
                server.pid,
                make_url(url).database,
            )
        )
        stop_gunicorn(server)
        with app.app_context():
            from app.audit import books

            problems = books.check(project_id)
            limited_sold, unlimited_sold = tier_figures(limited), tier_figures(unlimited)
            project = db.session.get(Project, project_id)
            pending_payments = db.session.scalar(
                select(func.count()).select_from(Payment).where(Payment.status == "pending")
            )
            ok = report(
                args,
                results,
                limited_sold,
                unlimited_sold,
                project,
                problems,
                (workdir / "gunicorn.log").read_text(errors="replace"),
            )
            print(f"open payments     {pending_payments} (started, not yet completed)")
            db.session.remove()
            db.engine.dispose()
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping gunicorn and dropping the database", file=sys.stderr)
        return 130
    finally:
        stop_gunicorn(server)
        drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
