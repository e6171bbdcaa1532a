"""A whole campaign, simulated: a seeded random run of backers, Stripe and the platform.

``Simulation(seed, ...)`` launches two projects, registers backers, then plays a few hundred
random steps drawn by ``random.Random(seed)``: new pledges paid with good, declined,
underfunded and 3-D Secure cards (a few through the real pages), browser returns or none,
webhook events taken from the fake Stripe and delivered late, twice, out of order or never,
changes up, down and across tiers, cancellations, abandoned and expired payments, gateway
faults (429s, 500s, answers lost after Stripe acted, the odd definitive refusal), processes
killed between two steps and restarted, the scheduler's sweeps, a project cancelled or
suspended in some runs, and the deadlines passing with settlement run by the CLI (twice,
killed midway, resumed after the lease). After every step the books must balance and every
pledge, payment, refund and reward place must be in a state the rules allow; at the end
every pledge is in one final state and the money agrees with the fake Stripe to the cent.

Everything the run decides comes from its seed: time is a frozen clock moved only by the
simulation, settlement uses one worker, rows are picked in id order. The fake Stripe's ids
differ from run to run, its behaviour does not, so a failing seed fails again.

With ``chaos=True`` the events come from the fake Stripe itself instead: its chaos mode sends
some twice and holds some back so they arrive out of order, and the platform's webhook URL (a
loopback server whose requests the simulation serves between steps, through the real signed
``/stripe/webhook``) fails some first deliveries, so the fake retries them with backoff. Such a
run depends on real time, so it is checked at every step but not replayable.
"""

from __future__ import annotations

import enum
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import Role, User
from app.audit import books
from app.audit import reconcile as reconciling
from app.errors import UserError
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry
from app.notifications.models import Outbox
from app.notifications.services import Kind
from app.payments import gateway
from app.payments.gateway import GatewayError
from app.payouts.models import ConnectedAccount, Payout, PayoutStatus
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.domain import FINAL_STATUSES, TRANSITIONS, PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.projects import services as project_services
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards.models import RewardTier
from app.settlement import services as settlement_services
from tests.helpers import Browser, gen_project, gen_tier, gen_user
from tests.helpers.settling import make_balance_available, ready_account

P = PledgeStatus
S = ProjectStatus
AUTH = ("sk_test_offline", "")
HANDLED_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "account.updated",
)
CARDS = {
    "visa": "pm_card_visa",
    "declined": "pm_card_chargeDeclined",
    "no_funds": "pm_card_chargeDeclinedInsufficientFunds",
    "3ds_ok": "pm_card_authenticationRequired",
    "3ds_failed": "pm_card_authenticationRequired",
}


def _reachable() -> dict[PledgeStatus, frozenset[PledgeStatus]]:
    """Where a pledge may get from each status, in one or more allowed transitions."""
    reach = {}
    for start in PledgeStatus:
        seen, todo = {start}, [start]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[start] = frozenset(seen)
    return reach


REACHABLE = _reachable()
# A payment or refund may move only forward: a succeeded payment stays succeeded (a failed one
# may still be charged after all); a refund that failed stays failed (Stripe may fail one it
# had answered succeeded).
PAYMENT_FORWARD = {
    PaymentStatus.PENDING: frozenset(PaymentStatus),
    PaymentStatus.FAILED: frozenset({PaymentStatus.FAILED, PaymentStatus.SUCCEEDED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.SUCCEEDED}),
}
REFUND_FORWARD = {
    RefundStatus.PENDING: frozenset(RefundStatus),
    RefundStatus.PROCESSING: frozenset(RefundStatus) - {RefundStatus.PENDING},
    RefundStatus.SUCCEEDED: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset({RefundStatus.FAILED}),
}


class Delivery:
    """One webhook request from the fake Stripe, waiting for the simulation to serve it."""

    def __init__(self, body: bytes, signature: str) -> None:
        self.body, self.signature = body, signature
        self.status = 503
        self.done = threading.Event()


class WebhookEndpoint:
    """The platform's webhook URL as the fake Stripe sees it, in chaos runs: a loopback server
    that queues each request for the simulation's main thread, which serves them between steps
    (so the checks run after them) and hands back the platform's status. A share of the first
    deliveries of an event answer 503 unserved (a deploy, a restart), so Stripe retries; a
    request left waiting too long answers 503 too, and is retried."""

    def __init__(self, seed: int, fail_first: float = 0.25, patience: float = 8.0) -> None:
        self.rng = random.Random(seed)
        self.fail_first, self.patience = fail_first, patience
        self.lock = threading.Lock()
        self.queue: list[Delivery] = []
        self.seen: Counter = Counter()  # event id -> requests received
        self.refused = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(endpoint.receive(body, self.headers["Stripe-Signature"]))
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def receive(self, body: bytes, signature: str) -> int:
        event_id = json.loads(body)["id"]
        with self.lock:
            self.seen[event_id] += 1
            if self.seen[event_id] == 1 and self.rng.random() < self.fail_first:
                self.refused += 1
                return 503
            delivery = Delivery(body, signature)
            self.queue.append(delivery)
        if not delivery.done.wait(self.patience):
            with self.lock:
                if delivery in self.queue:  # not taken: give up, Stripe will try again
                    self.queue.remove(delivery)
                    return 503
            delivery.done.wait()
        return delivery.status

    def take(self) -> list[Delivery]:
        with self.lock:
            taken, self.queue = self.queue, []
        return taken

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class Killed(SystemExit):
    """The process dies here: no ``except Exception`` runs and nothing more is committed."""


class SimulationFailure(AssertionError):
    pass


def parse_seeds(text: str) -> list[int]:
    """``"1,2,3"``, ``"100..119"`` or a mix of both."""
    seeds: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if ".." in part:
            low, high = part.split("..", 1)
            seeds.extend(range(int(low), int(high) + 1))
        else:
            seeds.append(int(part))
    return seeds


class FlakyCall:
    """Stands in for one SDK method; when armed, its next call fails like a network does, or
    is refused.

    ``reset``: the connection drops before the request reaches Stripe. ``lost``: Stripe does
    the work and the answer is lost on the way back (only the idempotency key then stops a
    second charge, refund or transfer). ``refuse``: Stripe refuses the next request with a
    new idempotency key, for good; as real Stripe does, a key it has answered before is
    answered the same again, so a replay is never refused.
    """

    def __init__(self, service, method: str) -> None:
        self.real = getattr(service, method)
        self.armed: str | None = None
        self.answered: set[str] = set()  # keys of requests that reached Stripe
        self.refused: set[str] = set()

    def __call__(self, *args, **kwargs):
        options = args[1] if len(args) > 1 else kwargs.get("options")
        key = (options or {}).get("idempotency_key")
        if key in self.refused or (self.armed == "refuse" and key in self.answered):
            mode = "refuse" if key in self.refused else None  # Stripe answers a key the same
        else:
            mode, self.armed = self.armed, None
        if mode == "reset":
            raise stripe.APIConnectionError("Connection reset by peer (simulated)")
        if mode == "refuse":
            self.answered.add(key)
            self.refused.add(key)
            raise stripe.InvalidRequestError(
                "This refund cannot be made (simulated).",
                None,
                code="refund_refused",
                http_status=400,
            )
        if key:
            self.answered.add(key)
        result = self.real(*args, **kwargs)
        if mode == "lost":
            raise stripe.APIConnectionError("Read timed out after Stripe answered (simulated)")
        return result


@dataclass
class Backer:
    index: int
    user_id: int
    email: str
    browser: Browser | None = None


@dataclass
class Campaign:
    """One project of the simulation, named A or B in the log."""

    name: str
    project_id: int
    owner_id: int
    currency: str
    goal: int
    tier_ids: list[int] = field(default_factory=list)


FLOAT = 50_000  # the platform's own money at Stripe in fee runs, per currency (minor units)


class Simulation:
    def __init__(
        self,
        seed: int,
        app,
        stripe_fake,
        clock,
        runner,
        monkeypatch,
        steps: int | None = None,
        races: bool = False,
        chaos: bool = False,
    ) -> None:
        self.seed = seed
        self.races = races  # two requests on one pledge at once (not replayable: threads)
        self.chaos = chaos  # the fake's own webhooks, with chaos and retries (not replayable)
        self.endpoint: WebhookEndpoint | None = None
        self.last_seen: dict[tuple[str, int], enum.Enum] = {}  # statuses at the last check
        self.steps = steps
        self.rng = random.Random(seed)
        self.app = app
        self.fake = stripe_fake
        self.clock = clock
        self.runner = runner
        self.mp = monkeypatch
        self.log: list[str] = []
        self.step_no = 0
        self.action = "setup"
        self.inbox: list[dict] = []  # events sent by the fake Stripe, not yet delivered
        self.seen_events: set[str] = set()
        self.stats: Counter = Counter()
        self.refusals_allowed = self.rng.random() < 0.5  # a definitive refund refusal or two
        self.stop_project = self.rng.random() < 0.3  # B is cancelled or suspended midway
        self.stopped = False
        self.campaigns: list[Campaign] = []
        self.backers: list[Backer] = []
        self.flaky: dict[str, FlakyCall] = {}
        self.deadlines: dict[str, datetime] = {}
        self.last_minutes_played: set[str] = set()
        # Half the runs charge Stripe's card pricing, which the creators bear (the default).
        # Drawn from a generator of its own, so a seed's story is the same with or without.
        self.fees = random.Random(seed * 7919 + 1).random() < 0.5

    # ---- running --------------------------------------------------------------------------

    def run(self) -> None:
        self.setup()
        self.check()
        steps = self.rng.randint(180, 260)
        steps = self.steps or steps
        span = self.last_deadline() - self.clock.now() + timedelta(minutes=20)
        milestones = sorted(self.rng.sample(range(10, steps), k=steps // 18))
        actions = self.actions()
        names = [name for name, _ in actions]
        weights = [weight for _, weight in actions]
        for i in range(steps):
            self.advance_to(self.clock.now() + timedelta(seconds=self.rng.randint(0, 240)))
            if milestones and i == milestones[0]:
                milestones.pop(0)
                self.advance_to(self.start + span * (i / steps))
                self.step("time", lambda: f"clock moved to {self.elapsed()}")
            name = self.rng.choices(names, weights)[0]
            self.step(name, getattr(self, f"act_{name}"))
        self.endgame()
        self.final_checks()

    def advance_to(self, target: datetime) -> None:
        """Time passes; a project's last minutes before its deadline are played out."""
        for campaign in self.campaigns:
            deadline = self.deadlines[campaign.name]
            if (
                campaign.name not in self.last_minutes_played
                and self.clock.now() < deadline <= target + timedelta(minutes=30)
            ):
                self.last_minutes(campaign, deadline)
        if self.clock.now() < target:
            self.clock.advance(seconds=(target - self.clock.now()).total_seconds())

    def last_minutes(self, campaign: Campaign, deadline: datetime) -> None:
        """Backers pledge, change and cancel in the last minutes, some payments still open as
        the deadline passes; then the scheduler may come at once."""
        self.last_minutes_played.add(campaign.name)
        start = deadline - timedelta(seconds=self.rng.randint(60, 1500))
        if self.clock.now() < start:
            self.clock.advance(seconds=(start - self.clock.now()).total_seconds())
        self.step("last minutes", lambda: f"project {campaign.name} closes soon")
        rush = ["change", "change", "new_pledge", "pay_open", "cancel", "webhooks"]
        for _ in range(self.rng.randint(3, 7)):
            name = self.rng.choice(rush)
            self.step(name, getattr(self, f"act_{name}"))
            self.clock.advance(seconds=self.rng.randint(0, 60))
        if self.clock.now() <= deadline:
            late = (deadline - self.clock.now()).total_seconds() + self.rng.randint(0, 300)
            self.clock.advance(seconds=late)
        self.step("deadline", lambda: f"project {campaign.name} is past its deadline")
        if self.rng.random() < 0.6:
            self.step("scheduler", self.act_scheduler)

    def step(self, name: str, action: Callable[[], str | None]) -> None:
        self.step_no += 1
        self.action = name
        try:
            note = action()
        except Killed:
            raise self.failure("a crash escaped its step") from None
        except Exception as error:
            raise self.failure(f"{type(error).__name__}: {error}") from error
        self.log.append(f"{self.step_no:4d} {self.elapsed()} {name}: {note or ''}")
        self.stats[name] += 1
        self.check()

    def failure(self, message: str) -> SimulationFailure:
        tail = "\n".join(self.log[-25:])
        return SimulationFailure(
            f"seed {self.seed}, step {self.step_no} ({self.action}): {message}\n"
            f"last steps:\n{tail}\n"
            f"reproduce with CAMPAIGN_SEED={self.seed} .venv/bin/python -m pytest "
            f"tests/simulation/test_campaign.py -p no:cacheprovider"
        )

    def elapsed(self) -> str:
        delta = self.clock.now() - self.start
        hours, rest = divmod(int(delta.total_seconds()), 3600)
        return f"t+{hours:02d}h{rest // 60:02d}"

    def restart(self) -> None:
        """The process died or restarted: its open transaction is gone, its session too."""
        db.session.rollback()
        db.session.remove()

    # ---- the world ------------------------------------------------------------------------

    def setup(self) -> None:
        rng = self.rng
        self.mp.setitem(self.app.config, "SETTLEMENT_WORKERS", 1)  # deterministic order
        gw = gateway()
        if rng.random() < 0.3:  # some runs retry a passing failure once within the call
            self.mp.setattr(gw, "attempts", 2)
            self.mp.setattr(gw, "max_wait", 0.01)
        for service, method in [
            ("refunds", "create"),
            ("payment_intents", "create"),
            ("payment_intents", "cancel"),
            ("transfers", "create"),
        ]:
            target = getattr(gw.client.v1, service)
            flaky = FlakyCall(target, method)
            self.mp.setattr(target, method, flaky)
            self.flaky[f"{service}.{method}"] = flaky

        if self.chaos:
            self.start_chaos()
        if self.fees:
            self.fake.set_fees(usd=("2.9", 30), eur=("1.5", 25))
            # The platform keeps money of its own at Stripe (outside the books) to pay the
            # fees Stripe keeps on refunds; without it a payout can wait for ever.
            self.fake.http.post(
                f"{self.fake.url}/_config/balance",
                data={f"available[{c}]": FLOAT for c in ("usd", "eur")},
                timeout=10,
            ).raise_for_status()
        self.start = self.clock.now()
        a_days = rng.randint(1, 2)
        specs = [
            ("A", "USD", rng.randint(150, 700) * 100, a_days),  # funds more often than not
            ("B", rng.choice(["USD", "EUR"]), rng.randint(250, 1000) * 100, a_days + 1),
        ]
        self.moderator_id = gen_user("sim-mod@example.com", "Sim Mod", role=Role.MODERATOR).id
        for name, currency, goal, days in specs:
            owner = gen_user(f"creator-{name.lower()}@example.com", f"Creator {name}")
            project = gen_project(
                owner,
                "live",
                title=f"Project {name}",
                goal=goal,
                currency=currency,
                duration_days=days,
                tiers=1,
            )
            gen_tier(project, title="Limited", minimum=2500, quantity_limit=rng.randint(3, 8))
            gen_tier(project, title="Shipped", minimum=4000, shipping_fee=rng.choice([0, 750]))
            gen_tier(project, title="Big", minimum=9000)
            db.session.commit()
            tiers = sorted(t.id for t in project.tiers)
            self.campaigns.append(Campaign(name, project.id, owner.id, currency, goal, tiers))
            if rng.random() < 0.6:
                ready_account(owner, self.fake)
        self.deadlines = {c.name: self.project(c).deadline for c in self.campaigns}
        for i in range(rng.randint(30, 50)):
            user = gen_user(f"sim-backer{i:02d}@example.com", f"Backer {i}")
            self.backers.append(Backer(i, user.id, user.email))
        for backer in self.backers[:3]:  # a few go through the real pages
            backer.browser = Browser(self.app.test_client())
            backer.browser.login(backer.email)
        self.log.append(
            f"     seed {self.seed}: "
            + ", ".join(f"{c.name} goal {c.goal} {c.currency}" for c in self.campaigns)
            + f", {len(self.backers)} backers, refusals {self.refusals_allowed}, "
            f"stop B {self.stop_project}, attempts {gw.attempts}"
        )

    def start_chaos(self) -> None:
        """The fake Stripe delivers its events itself, duplicated, reordered and retried."""
        self.endpoint = WebhookEndpoint(self.seed)
        self.fake.http.post(
            f"{self.fake.url}/_config/settings",
            timeout=10,
            data={
                "chaos": "true",
                "chaos_seed": self.seed,
                "chaos_duplicates": 0.25,
                "chaos_delays": 0.25,
                "chaos_max_delay": 2,
                "webhook_retry": 0.25,
                "webhook_attempts": 8,
            },
        ).raise_for_status()
        self.fake.register_webhook(self.endpoint.url, self.app.config["STRIPE_WEBHOOK_SECRET"])

    def close(self) -> None:
        """Stop the chaos run's endpoint and unregister it (the fake's reset restores the
        settings)."""
        if self.endpoint is not None:
            self.fake.http.delete(f"{self.fake.url}/_config/webhooks/platform", timeout=10)
            self.endpoint.close()
            self.endpoint = None

    def serve_deliveries(self) -> Counter:
        """The webhook requests waiting at the endpoint, through the real signed route."""
        results: Counter = Counter()
        for delivery in self.endpoint.take():
            try:
                response = self.app.test_client().post(
                    "/stripe/webhook",
                    data=delivery.body,
                    headers={
                        "Stripe-Signature": delivery.signature,
                        "Content-Type": "application/json",
                    },
                )
                delivery.status = response.status_code
            finally:
                delivery.done.set()
            if response.status_code == 503:  # could not reach Stripe: the fake retries it
                results["503"] += 1
                continue
            if response.status_code != 200:
                raise AssertionError(f"webhook answered {response.status_code}")
            results[response.json["result"]] += 1
        self.stats["webhook requests"] += sum(results.values())
        self.stats["webhook duplicates"] += results["duplicate"]
        return results

    def serve_until_quiet(self, timeout: float = 60) -> Counter:
        """Serve until the fake has nothing left to deliver (its retries included)."""
        results: Counter = Counter()
        deadline = time.monotonic() + timeout
        while True:
            results += self.serve_deliveries()
            pending = self.fake.http.get(f"{self.fake.url}/_config/deliveries", timeout=10)
            if not pending.json()["pending"] and not self.endpoint.queue:
                return results
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks still pending: {pending.json()['pending']}")
            time.sleep(0.02)

    def last_deadline(self):
        return max(self.project(c).deadline for c in self.campaigns)

    def project(self, campaign: Campaign) -> Project:
        project = db.session.get(Project, campaign.project_id)
        db.session.refresh(project)
        return project

    def campaign_of(self, project_id: int) -> Campaign:
        return next(c for c in self.campaigns if c.project_id == project_id)

    def actions(self) -> list[tuple[str, float]]:
        return [
            ("new_pledge", 12),
            ("pay_open", 4),
            ("browser_return", 3),
            ("webhooks", 9),
            ("change", 5),
            ("cancel", 3),
            ("abandon", 1.5),
            ("time_passes", 3),
            ("scheduler", 2),
            ("fault", 3),
            ("crash", 2.5),
            ("restart", 1),
            ("onboard", 0.5),
            ("stop_project", 0.4),
            *([("race", 4)] if self.races else []),
        ]

    # ---- picking rows, in id order --------------------------------------------------------

    def pledges(self, *statuses: PledgeStatus) -> list[Pledge]:
        stmt = select(Pledge).order_by(Pledge.id)
        if statuses:
            stmt = stmt.where(Pledge.status.in_(statuses))
        return list(db.session.scalars(stmt))

    def pending_payments(self) -> list[Payment]:
        return list(
            db.session.scalars(
                select(Payment).where(Payment.status == PaymentStatus.PENDING).order_by(Payment.id)
            )
        )

    def pick(self, rows: list):
        return self.rng.choice(rows) if rows else None

    def terms(self, campaign: Campaign, tier_id: int | None = None) -> pledge_services.Terms:
        tier = db.session.get(RewardTier, tier_id or self.rng.choice(campaign.tier_ids))
        extra = self.rng.choice([0, 0, 500, 1000, 2500, 4000, 9000, self.rng.randint(1, 6000)])
        country = self.rng.choice(["US", "FR", "JP"]) if tier.ships else None
        return pledge_services.Terms(tier.id, tier.minimum_amount + extra, country)

    # ---- the card, as Stripe.js and the browser would ---------------------------------------

    def pay(self, payment_id: int) -> str:
        """The backer confirms a card in the browser; then returns to the site, or not."""
        payment = db.session.get(Payment, payment_id)
        intent_id, secret = payment.stripe_payment_intent_id, payment.client_secret
        db.session.commit()
        if intent_id is None:
            return "no intent to pay"
        card = self.rng.choices(list(CARDS), [6, 1, 1, 1.5, 1])[0]
        answer = self.fake.pay(intent_id, CARDS[card])
        if card.startswith("3ds") and answer.get("status") == "requires_action":
            answer = self.fake.authenticate(intent_id, secret, success=card == "3ds_ok")
        outcome = answer.get("status") or answer.get("error", {}).get("code", "error")
        if self.rng.random() < 0.6:
            return f"card {card} -> {outcome}, " + self.browser_returns(payment_id)
        return f"card {card} -> {outcome}, browser closed"

    def browser_returns(self, payment_id: int) -> str:
        try:
            return f"return: {checkout.confirm(payment_id).status}"
        except GatewayError as error:
            db.session.rollback()
            return f"return: could not check ({error.code or error.message})"

    # ---- actions ---------------------------------------------------------------------------

    def act_new_pledge(self) -> str:
        campaign = self.rng.choice(self.campaigns)
        backer = self.rng.choice(self.backers)
        terms = self.terms(campaign)
        what = f"backer {backer.index} -> {campaign.name} tier {terms.tier_id} {terms.amount}"
        if backer.browser is not None and self.rng.random() < 0.7:
            return what + " (pages): " + self.pledge_through_pages(backer, campaign, terms)
        try:
            started = checkout.begin_pledge(backer.user_id, campaign.project_id, terms)
        except UserError as error:
            db.session.rollback()
            return f"{what}: refused: {error}"
        if self.rng.random() < 0.15:
            return f"{what}: walked away before paying"
        return f"{what}: " + self.pay(started.payment_id)

    def pledge_through_pages(self, backer: Backer, campaign: Campaign, terms) -> str:
        fields = {"tier_id": str(terms.tier_id), "amount": f"{terms.amount / 100:.2f}"}
        if terms.shipping_country:
            fields["shipping_country"] = terms.shipping_country
        url = f"/projects/{campaign.project_id}/back"
        page = backer.browser.client.get(url)
        if page.status_code != 200:  # already backed, or no longer taking pledges
            return f"the pledge page answered {page.status_code}"
        response = backer.browser.submit(url, fields)
        if response.status_code != 302 or "/pay" not in response.headers.get("Location", ""):
            return f"form answered {response.status_code}"
        pledge = db.session.scalar(
            select(Pledge)
            .where(Pledge.backer_id == backer.user_id, Pledge.project_id == campaign.project_id)
            .order_by(Pledge.id.desc())
        )
        payment = pledge.payments[-1]
        intent_id = payment.stripe_payment_intent_id
        db.session.commit()
        answer = self.fake.pay(intent_id, "pm_card_visa")
        done = backer.browser.client.get(f"/pledges/{pledge.id}/complete")
        return f"card visa -> {answer.get('status')}, return page {done.status_code}"

    def act_pay_open(self) -> str:
        """A backer with an open payment (declined before, or a change) tries a card."""
        payment = self.pick([p for p in self.pending_payments() if p.stripe_payment_intent_id])
        if payment is None:
            return "no open payment"
        return f"payment {payment.id}: " + self.pay(payment.id)

    def act_browser_return(self) -> str:
        payment = self.pick(self.pending_payments())
        if payment is None:
            return "no open payment"
        return f"payment {payment.id}: " + self.browser_returns(payment.id)

    def act_webhooks(self) -> str:
        """Stripe's events arrive: late, in any order, some twice, a few never."""
        if self.endpoint is not None:
            time.sleep(0.05)  # a moment for the fake's deliveries to come in
            results = self.serve_deliveries()
            return ", ".join(f"{n} {r}" for r, n in sorted(results.items())) or "none waiting"
        self.collect_events()
        delivered = []
        for _ in range(min(len(self.inbox), self.rng.randint(1, 6))):
            event = self.inbox.pop(self.rng.randrange(len(self.inbox)))
            if self.rng.random() < 0.04:
                delivered.append(f"{event['type']} lost")
                continue
            result = self.deliver(event)
            if self.rng.random() < 0.2:  # Stripe will send it again
                self.inbox.insert(self.rng.randrange(len(self.inbox) + 1), event)
            delivered.append(f"{event['type']} {result}")
        return "; ".join(delivered) or "none waiting"

    def collect_events(self) -> None:
        """New events at the fake Stripe (it lists newest first), into the inbox."""
        new: list[dict] = []
        after = None
        while True:
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            page = self.fake.http.get(
                f"{self.fake.url}/v1/events", params=params, auth=AUTH, timeout=10
            ).json()
            fresh = [e for e in page["data"] if e["id"] not in self.seen_events]
            new.extend(fresh)
            if len(fresh) < len(page["data"]) or not page.get("has_more") or not page["data"]:
                break
            after = page["data"][-1]["id"]
        for event in reversed(new):
            self.seen_events.add(event["id"])
            if event["type"] in HANDLED_EVENTS:
                self.inbox.append(event)

    def deliver(self, event: dict) -> str:
        if self.rng.random() < 0.3:  # through the real, signed endpoint
            body = json.dumps(event)
            ts = int(time.time())
            secret = self.app.config["STRIPE_WEBHOOK_SECRET"]
            signature = stripe.WebhookSignature._compute_signature(f"{ts}.{body}", secret)
            response = self.app.test_client().post(
                "/stripe/webhook",
                data=body,
                headers={
                    "Stripe-Signature": f"t={ts},v1={signature}",
                    "Content-Type": "application/json",
                },
            )
            if response.status_code != 200:
                raise AssertionError(f"webhook answered {response.status_code}")
            return response.json["result"]
        return checkout.handle_event(event["id"], event["type"], event["data"]["object"])

    def act_change(self) -> str:
        pledge = self.pick(self.pledges(P.HELD))
        if pledge is None:
            return "no held pledge"
        campaign = self.campaign_of(pledge.project_id)
        kind = self.rng.choice(["up", "down", "tier"])
        tier = pledge.tier
        if kind == "up":
            terms = pledge_services.Terms(
                tier.id,
                pledge.amount + self.rng.choice([100, 1000, 2550, 7000]),
                pledge.shipping_country,
            )
        elif kind == "down":
            lower = max(tier.minimum_amount, pledge.amount - self.rng.choice([1, 500, 1500, 5000]))
            terms = pledge_services.Terms(tier.id, lower, pledge.shipping_country)
        else:
            terms = self.terms(campaign)
        pledge_id = pledge.id
        what = f"pledge {pledge_id} {kind}: {pledge.tier_id}/{pledge.total} -> {terms}"
        db.session.commit()
        try:
            changed = checkout.begin_change(pledge_id, terms)
        except UserError as error:
            db.session.rollback()
            return f"{what}: refused: {error}"
        if changed.payment_id is None:
            return f"{what}: {len(changed.refunds)} refund(s)"
        payment_id = changed.payment_id
        if self.rng.random() < 0.2:
            return f"{what}: extra payment {payment_id} left open"
        return f"{what}: extra payment {payment_id}: " + self.pay(payment_id)

    def act_race(self) -> str:
        """One backer sends two requests on one held pledge at the same moment (two tabs):
        reduce, increase or cancel, each in its own thread, session and connection."""
        pledge = self.pick(self.pledges(P.HELD))
        if pledge is None:
            return "no held pledge"
        pledge_id, tier_id, amount = pledge.id, pledge.tier_id, pledge.amount
        minimum, country = pledge.tier.minimum_amount, pledge.shipping_country
        db.session.commit()

        def change(to: int):
            return lambda: checkout.begin_change(
                pledge_id, pledge_services.Terms(tier_id, to, country)
            )

        moves = {
            "reduce": change(max(minimum, amount - self.rng.choice([100, 700, 2000]))),
            "increase": change(amount + self.rng.choice([100, 1000, 2500])),
            "cancel": lambda: checkout.cancel(pledge_id),
        }
        names = [self.rng.choice(list(moves)) for _ in range(2)]
        results: list[str] = ["", ""]
        barrier = threading.Barrier(2, timeout=30)

        def worker(i: int) -> None:
            with self.app.app_context():
                try:
                    barrier.wait(timeout=10)
                    moves[names[i]]()
                    results[i] = "done"
                except UserError:
                    db.session.rollback()
                    results[i] = "refused"
                except Exception as error:  # a 500 for the backer
                    db.session.rollback()
                    results[i] = f"ERROR {type(error).__name__}: {error}"
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        outcome = f"pledge {pledge_id}: {names[0]} {results[0]} / {names[1]} {results[1]}"
        if any(r.startswith("ERROR") or not r for r in results):
            raise self.failure(outcome)
        return outcome

    def act_cancel(self) -> str:
        pledge = self.pick(self.pledges(P.HELD))
        if pledge is None:
            return "no held pledge"
        pledge_id = pledge.id
        db.session.commit()
        try:
            checkout.cancel(pledge_id)
        except UserError as error:
            db.session.rollback()
            return f"pledge {pledge_id}: refused: {error}"
        return f"pledge {pledge_id} cancelled"

    def act_abandon(self) -> str:
        payment = self.pick(self.pending_payments())
        if payment is None:
            return "no open payment"
        payment_id = payment.id
        db.session.commit()
        try:
            checkout.abandon(payment_id, "You stopped the payment.")
        except GatewayError as error:  # the page shows an error; the sweep will do it
            db.session.rollback()
            return f"payment {payment_id}: abandon failed ({error.code or error.message})"
        return f"payment {payment_id} abandoned"

    def act_time_passes(self) -> str:
        self.clock.advance(minutes=self.rng.randint(10, 45))
        note = f"clock {self.elapsed()}"
        if self.rng.random() < 0.8:
            note += f", {checkout.sweep_expired_payments()} expired"
        if self.rng.random() < 0.6:
            note += f", {checkout.resume_refunds()} refunds resumed"
        return note

    def act_scheduler(self) -> str:
        """One tick of `flask scheduler run`: the pledge sweep, then settlement."""
        expired = checkout.sweep_expired_payments()
        resumed = checkout.resume_refunds()
        return f"{expired} expired, {resumed} refunds resumed; " + self.settle()

    def settle(self) -> str:
        result = self.runner.invoke(args=["projects", "settle"])
        if result.exit_code != 0:
            raise AssertionError(f"settle exited {result.exit_code}: {result.output}")
        return result.output.strip().replace("\n", " | ")

    def act_fault(self) -> str:
        """The next call of one kind to Stripe fails; some never happen, some happen unseen."""
        roll = self.rng.random()
        if roll < 0.45:
            path, method = self.rng.choice(
                [
                    ("/v1/refunds", "POST"),
                    ("/v1/payment_intents", "POST"),
                    ("/v1/payment_intents", "GET"),
                    ("/v1/customers", "POST"),
                    ("/v1/transfers", "POST"),
                    ("/v1/balance", "GET"),
                ]
            )
            status = self.rng.choice([429, 500, 503])
            self.fake.fault(path, status, count=self.rng.choice([1, 1, 2]), method=method)
            return f"{status} on the next {method} {path}"
        if roll < 0.92 or not self.refusals_allowed:
            name = self.rng.choice(sorted(self.flaky))
            mode = self.rng.choice(["lost", "lost", "reset"])
            self.flaky[name].armed = mode
            return f"{name}: next answer {mode}"
        self.flaky["refunds.create"].armed = "refuse"
        return "the next refund is refused"

    def act_crash(self) -> str:
        """The process is killed midway through an operation, then restarted."""
        scenarios = [
            ("cancel: killed after Stripe refunded", self.crash_cancel_after_refund),
            ("return: killed while booking the payment", self.crash_booking),
            ("pledge: killed after the intent was created", self.crash_new_intent),
            ("sweep: killed after Stripe cancelled", self.crash_sweep),
            ("settle: killed midway", self.crash_settlement),
        ]
        label, scenario = self.rng.choice(scenarios)
        with self.mp.context() as mp:
            try:
                note = scenario(mp)
            except Killed:
                note = "killed"
        self.restart()
        return f"{label}: {note}"

    @staticmethod
    def die_after(fn):
        def dead(*args, **kwargs):
            fn(*args, **kwargs)
            raise Killed(1)

        return dead

    def crash_cancel_after_refund(self, mp) -> str:
        pledge = self.pick(self.pledges(P.HELD))
        if pledge is None:
            return "no held pledge"
        pledge_id = pledge.id
        db.session.commit()
        mp.setattr(gateway(), "create_refund", self.die_after(gateway().create_refund))
        try:
            checkout.cancel(pledge_id)
        except UserError as error:
            db.session.rollback()
            return f"pledge {pledge_id}: refused: {error}"
        return f"pledge {pledge_id}: survived"

    def crash_booking(self, mp) -> str:
        payment = self.pick([p for p in self.pending_payments() if p.stripe_payment_intent_id])
        if payment is None:
            return "no open payment"
        payment_id, intent_id = payment.id, payment.stripe_payment_intent_id
        db.session.commit()
        self.fake.pay(intent_id, "pm_card_visa")
        mp.setattr(
            pledge_services,
            "payment_succeeded",
            self.die_after(pledge_services.payment_succeeded),
        )
        return f"payment {payment_id}: " + self.browser_returns(payment_id)

    def crash_new_intent(self, mp) -> str:
        campaign = self.rng.choice(self.campaigns)
        backer = self.rng.choice(self.backers)
        terms = self.terms(campaign)
        mp.setattr(
            gateway(), "create_payment_intent", self.die_after(gateway().create_payment_intent)
        )
        try:
            checkout.begin_pledge(backer.user_id, campaign.project_id, terms)
        except UserError as error:
            db.session.rollback()
            return f"backer {backer.index} -> {campaign.name}: refused: {error}"
        return "survived"

    def crash_sweep(self, mp) -> str:
        self.clock.advance(minutes=self.rng.randint(5, 35))
        mp.setattr(
            gateway(), "cancel_payment_intent", self.die_after(gateway().cancel_payment_intent)
        )
        return f"{checkout.sweep_expired_payments()} expired"

    def crash_settlement(self, mp) -> str:
        points = [
            (settlement_services, "plan_refunds"),
            (gateway(), "create_refund"),
            (settlement_services, "payout_succeeded"),
            (gateway(), "create_transfer"),
            (settlement_services, "mark_settled_if_done"),
            (pledge_services, "record_refunds_succeeded"),
        ]
        target, name = self.rng.choice(points)
        mp.setattr(settlement_services, "release", lambda project_id: None)  # dead: no cleanup
        mp.setattr(target, name, self.die_after(getattr(target, name)))
        result = self.runner.invoke(args=["projects", "settle"])
        if isinstance(result.exception, Killed):
            return f"killed in {name}"
        if result.exit_code != 0:
            raise AssertionError(f"settle exited {result.exit_code}: {result.output}")
        return f"{name} not reached: " + result.output.strip().replace("\n", " | ")

    def act_restart(self) -> str:
        self.restart()
        return "process restarted"

    def act_onboard(self) -> str:
        for campaign in self.campaigns:
            if (
                db.session.scalar(
                    select(ConnectedAccount).where(ConnectedAccount.user_id == campaign.owner_id)
                )
                is None
            ):
                owner = db.session.get(User, campaign.owner_id)
                ready_account(owner, self.fake)
                return f"creator of {campaign.name} finished onboarding"
        db.session.commit()
        return "every creator onboarded"

    def act_stop_project(self) -> str:
        campaign = self.campaigns[1]
        project = self.project(campaign)
        if not self.stop_project or self.stopped or project.status is not S.LIVE:
            db.session.commit()
            return "nothing"
        if project.deadline <= self.clock.now():
            db.session.commit()
            return "too late to stop B"
        self.stopped = True
        if self.rng.random() < 0.5:
            owner = db.session.get(User, campaign.owner_id)
            project_services.cancel(project, owner, "Changed my mind.")
            what = "cancelled by its creator"
        else:
            moderator = db.session.get(User, self.moderator_id)
            project_services.suspend(project, moderator, "Breaks the rules.")
            what = "suspended by a moderator"
        db.session.commit()
        return f"B {what}"

    # ---- the end --------------------------------------------------------------------------

    def endgame(self) -> None:
        """The deadlines pass: late payments, settlement (with a crash or not), then the
        scheduler keeps running until every project is settled."""
        self.action = "endgame"
        self.advance_to(self.last_deadline() + timedelta(seconds=self.rng.randint(1, 600)))
        self.step(
            "deadlines",
            lambda: (
                "every deadline has passed; "
                + ", ".join(
                    f"{c.name} holds {self.project(c).pledged_amount} of {c.goal}"
                    for c in self.campaigns
                )
            ),
        )
        late = ["pay_open", "webhooks", "browser_return", "change", "cancel", "fault"]
        for _ in range(self.rng.randint(3, 8)):
            name = self.rng.choice(late)
            self.step(name, getattr(self, f"act_{name}"))
        if self.rng.random() < 0.5:
            self.step("settle", self.settle)
        if self.rng.random() < 0.5:
            self.step("crash", lambda: self.crash_in(self.crash_settlement))
            if self.rng.random() < 0.5:
                self.step("settle", self.settle)  # the lease is still held: nothing happens
        if self.rng.random() < 0.5:
            self.step("balance", lambda: make_balance_available(self.fake) or "available")
        for name in self.rng.sample(late, 3):
            self.step(name, getattr(self, f"act_{name}"))
        for round_no in range(10):
            if self.all_settled():
                return
            self.step("finish", lambda r=round_no: self.finish_round(r))
        db.session.rollback()
        stuck = [
            f"pledge {p.id} of project {p.project_id} is {p.status.value}"
            for p in self.pledges()
            if p.status not in FINAL_STATUSES
        ]
        raise self.failure("\n  ".join(["the projects did not settle in 10 rounds:", *stuck]))

    def crash_in(self, scenario) -> str:
        with self.mp.context() as mp:
            try:
                note = scenario(mp)
            except Killed:
                note = "killed"
        self.restart()
        return note

    def finish_round(self, round_no: int) -> str:
        """The outage is over: Stripe answers, its events arrive, admins act, time passes."""
        notes = []
        self.end_outage()
        if self.endpoint is not None:
            results = self.serve_until_quiet()
            notes.append(", ".join(f"{n} {r}" for r, n in sorted(results.items())))
        self.collect_events()
        while self.inbox and self.endpoint is None:
            event = self.inbox.pop(self.rng.randrange(len(self.inbox)))
            self.deliver(event)
        self.clock.advance(
            seconds=self.app.config["SETTLEMENT_LEASE_SECONDS"] + self.rng.randint(60, 1800)
        )
        if round_no >= 1:
            notes.append(self.act_onboard())
            make_balance_available(self.fake)
        notes.append(f"{checkout.sweep_expired_payments()} expired")
        notes.append(f"{checkout.resume_refunds()} refunds resumed")
        for pledge in sorted(pledge_services.needing_attention(), key=lambda p: p.id):
            if pledge.status is P.REFUND_FAILED or pledge.refused_difference:
                pledge_id = pledge.id
                db.session.commit()
                checkout.retry_refused_refund(pledge_id)  # an admin retries it
                notes.append(f"admin retried the refund of pledge {pledge_id}")
        notes.append(self.settle())
        return "; ".join(notes)

    def end_outage(self) -> None:
        self.fake.http.delete(f"{self.fake.url}/_config/faults", timeout=10).raise_for_status()
        for flaky in self.flaky.values():
            flaky.armed = None

    def all_settled(self) -> bool:
        db.session.rollback()
        return all(self.project(c).settled_at is not None for c in self.campaigns)

    # ---- invariants, after every step --------------------------------------------------------

    def check(self) -> None:
        db.session.rollback()  # a fresh look at what is committed
        problems = books.check() + self.state_problems() + self.booked_only_if_moved()
        problems += self.backward_moves()
        db.session.rollback()
        if problems:
            raise self.failure("\n  ".join(["invariants broken:", *problems]))

    def backward_moves(self) -> list[str]:
        """Since the last check every pledge moved only along allowed transitions, and no
        payment or refund went back (a late or repeated event must not undo anything)."""
        problems = []
        tables = [
            ("pledge", Pledge, REACHABLE),
            ("payment", Payment, PAYMENT_FORWARD),
            ("refund", Refund, REFUND_FORWARD),
        ]
        for name, model, forward in tables:
            for row_id, status in db.session.execute(select(model.id, model.status)):
                before = self.last_seen.get((name, row_id))
                if before is not None and status not in forward[before]:
                    problems.append(f"{name} {row_id} went back from {before} to {status}")
                self.last_seen[(name, row_id)] = status
        return problems

    def state_problems(self) -> list[str]:
        problems: list[str] = []
        pledges = list(
            db.session.scalars(
                select(Pledge)
                .options(selectinload(Pledge.payments), selectinload(Pledge.refunds))
                .order_by(Pledge.id)
            )
        )
        projects = {c.project_id: self.project(c) for c in self.campaigns}
        for pledge in pledges:
            problems += self.pledge_problems(pledge, projects[pledge.project_id])
        for campaign in self.campaigns:
            project = projects[campaign.project_id]
            problems += self.tier_problems(
                project, [p for p in pledges if p.project_id == project.id]
            )
            if project.settled_at is not None:
                mine = [p for p in pledges if p.project_id == project.id]
                if any(p.status not in FINAL_STATUSES for p in mine):
                    problems.append(f"project {campaign.name} is settled with open pledges")
                if ledger.balance(ledger.escrow(project.id)):
                    problems.append(f"project {campaign.name} is settled with money in escrow")
        return problems

    def booked_only_if_moved(self) -> list[str]:
        """Whatever we booked, Stripe did: each succeeded payment is a charge of its amount,
        each succeeded refund a refund of its amount on that payment. (Stripe may be ahead of
        us, a lost answer or a late webhook; never behind.)"""
        problems = []
        charges = {c["id"]: c for c in self.fake.objects("charges")}
        refunds = {r["id"]: r for r in self.fake.objects("refunds")}
        for payment in db.session.scalars(
            select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)
        ):
            charge = charges.get(payment.stripe_charge_id)
            if charge is None or (charge["status"], charge["amount"], charge["payment_intent"]) != (
                "succeeded",
                payment.amount,
                payment.stripe_payment_intent_id,
            ):
                problems.append(f"payment {payment.id} is booked, Stripe has charge {charge}")
        for refund in db.session.scalars(
            select(Refund).where(Refund.status == RefundStatus.SUCCEEDED)
        ):
            theirs = refunds.get(refund.stripe_refund_id)
            if theirs is None or (theirs["status"], theirs["amount"]) != (
                "succeeded",
                refund.amount,
            ):
                problems.append(f"refund {refund.id} is booked, Stripe has {theirs}")
        return problems

    def pledge_problems(self, pledge: Pledge, project: Project) -> list[str]:
        problems = []
        name = f"pledge {pledge.id} ({pledge.status.value})"
        payments, refunds = pledge.payments, pledge.refunds
        open_payments = [p for p in payments if p.status is PaymentStatus.PENDING]
        paid = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
        pending_refunds = [r for r in refunds if r.status is RefundStatus.PENDING]
        if not isinstance(pledge.status, PledgeStatus):
            problems.append(f"{name}: unknown status")
        if not payments:
            problems.append(f"{name}: has no payment")
        elif payments[0].amount != sum(
            (payments[0].target_amount, payments[0].target_shipping_fee)
        ):
            problems.append(f"{name}: its first payment does not pay its first terms")
        if pledge.status is P.PENDING and (len(payments) != 1 or not open_payments or refunds):
            problems.append(f"{name}: a pending pledge has exactly one open payment, no refund")
        if pledge.status is P.HELD and (not paid or payments[0] not in paid):
            problems.append(f"{name}: held without its first payment succeeded")
        if pledge.status is P.FAILED and (paid or open_payments or refunds):
            problems.append(f"{name}: failed, yet has money moving")
        # Money counts only if it arrived while the project took pledges: before its deadline
        # (and before a cancellation or suspension); what came later goes back in full.
        closed = min(project.deadline, project.ended_at or project.deadline)
        if pledge.held_at is not None and pledge.held_at >= closed:
            problems.append(f"{name}: held at {pledge.held_at}, the project closed at {closed}")
        for payment in paid:
            if payment.completed_at < closed:
                continue
            mine = [r for r in refunds if r.payment_id == payment.id]
            back = sum(r.amount for r in mine if r.status is not RefundStatus.FAILED)
            if back != payment.amount and not any(r.status is RefundStatus.FAILED for r in mine):
                problems.append(
                    f"{name}: payment {payment.id} came after the project closed and is "
                    f"not refunded ({back} of {payment.amount})"
                )
        if pledge.status is P.REFUNDING and not (pending_refunds or open_payments):
            problems.append(f"{name}: refunding with no refund under way, no payment open")
        if pledge.status in FINAL_STATUSES and (open_payments or pending_refunds):
            problems.append(f"{name}: final, yet a payment or refund is still open")
        if pledge.status is P.REFUND_FAILED and not any(
            r.status is RefundStatus.FAILED for r in refunds
        ):
            problems.append(f"{name}: refund_failed without a refused refund")
        if pledge.status is P.COLLECTED and project.status is not S.PAID_OUT:
            problems.append(f"{name}: collected, but the project is {project.status.value}")
        for payment in paid:
            if not (payment.stripe_payment_intent_id and payment.stripe_charge_id):
                problems.append(f"{name}: payment {payment.id} succeeded without Stripe ids")
        for refund in refunds:
            if refund.status is RefundStatus.SUCCEEDED and not refund.stripe_refund_id:
                problems.append(f"{name}: refund {refund.id} succeeded without a Stripe id")
            if refund.payment.pledge_id != pledge.id:
                problems.append(f"{name}: refund {refund.id} takes from another pledge")
        for payment in paid:
            back = sum(
                r.amount
                for r in refunds
                if r.payment_id == payment.id and r.status is not RefundStatus.FAILED
            )
            if back > payment.amount:
                problems.append(f"{name}: payment {payment.id} refunded {back} of {payment.amount}")
        return problems

    def tier_problems(self, project: Project, pledges: list[Pledge]) -> list[str]:
        """While a project is live, each tier's places are exactly its open pledges plus the
        changes waiting for their payment; never more than its limit."""
        problems = []
        expected: Counter = Counter()
        for pledge in pledges:
            if pledge.status in (P.PENDING, P.HELD):
                expected[pledge.tier_id] += 1
            if pledge.status is P.HELD:
                for payment in pledge.payments:
                    if (
                        payment.status is PaymentStatus.PENDING
                        and payment.target_tier_id != pledge.tier_id
                    ):
                        expected[payment.target_tier_id] += 1
        for tier in db.session.scalars(
            select(RewardTier).where(RewardTier.project_id == project.id).order_by(RewardTier.id)
        ):
            if tier.quantity_limit is not None and tier.claimed > tier.quantity_limit:
                problems.append(f"tier {tier.id} oversold: {tier.claimed}/{tier.quantity_limit}")
            if project.status is S.LIVE and tier.claimed != expected[tier.id]:
                problems.append(
                    f"tier {tier.id} of project {project.id} has {tier.claimed} places "
                    f"taken, its open pledges and changes need {expected[tier.id]}"
                )
        return problems

    # ---- the end: one final state each, and the money agrees with Stripe ------------------

    def final_checks(self) -> None:
        self.action = "final checks"
        self.step_no += 1
        self.end_outage()
        db.session.rollback()
        problems: list[str] = []
        pledges = self.pledges()
        counts = Counter(p.status.value for p in pledges)
        self.log.append(f"     final: {dict(sorted(counts.items()))}")
        for pledge in pledges:
            if pledge.status not in FINAL_STATUSES:
                problems.append(f"pledge {pledge.id} ended {pledge.status.value}")
        for campaign in self.campaigns:
            project = self.project(campaign)
            self.log.append(f"     {campaign.name}: {project.status.value}")
            if project.settled_at is None or project.settlement_lease_until is not None:
                problems.append(f"project {campaign.name} is not settled")
            if ledger.balance(ledger.escrow(project.id)) != 0:
                problems.append(f"project {campaign.name} has money left in escrow")
            if project.status is S.PAID_OUT:
                if any(
                    p.status is not P.COLLECTED
                    for p in pledges
                    if p.project_id == project.id
                    and p.status is not P.FAILED
                    and p.status is not P.REFUNDED
                ):
                    problems.append(f"project {campaign.name} paid out with uncollected pledges")
            elif any(p.status is P.COLLECTED for p in pledges if p.project_id == project.id):
                problems.append(f"project {campaign.name} {project.status.value} collected")
        problems += self.message_problems(pledges)
        db.session.commit()
        checkout.read_processing_fees()  # as the next sweep would: every fee is read
        problems += self.money_problems()
        for campaign in self.campaigns:
            result = reconciling.reconcile(campaign.project_id)
            problems += [f"reconcile {campaign.name}: {d}" for d in result.differences]
            self.log.append(f"     reconcile {campaign.name}: {result.summary()}")
        problems += books.check()
        db.session.rollback()
        if problems:
            raise self.failure("\n  ".join(["final state wrong:", *problems]))

    def message_problems(self, pledges: list[Pledge]) -> list[str]:
        """Each refunded backer is told once that the refund is complete, for all of it."""
        told = {
            m.pledge_id: m
            for m in db.session.scalars(
                select(Outbox).where(Outbox.kind == Kind.REFUND_COMPLETE_BACKER.value)
            )
        }
        problems = []
        for pledge in pledges:
            message = told.get(pledge.id)
            if pledge.status is not P.REFUNDED:
                if message is not None:
                    problems.append(
                        f"pledge {pledge.id} is {pledge.status.value}, yet was told "
                        f"its refund is complete"
                    )
                continue
            back = sum(r.amount for r in pledge.refunds if r.status is RefundStatus.SUCCEEDED)
            if message is None or message.amount != back:
                problems.append(
                    f"pledge {pledge.id} refunded {back}, the backer was told "
                    f"{message.amount if message else 'nothing'}"
                )
        return problems

    def money_problems(self) -> list[str]:
        """Every cent at the fake Stripe is in our books, and nothing else is."""
        problems: list[str] = []
        charges = [c for c in self.fake.objects("charges") if c["status"] == "succeeded"]
        refunds = [r for r in self.fake.objects("refunds") if r["status"] == "succeeded"]
        transfers = self.fake.objects("transfers")
        payments = list(
            db.session.scalars(select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED))
        )
        ours = {p.stripe_payment_intent_id: p for p in payments}
        theirs = {c["payment_intent"]: c for c in charges}
        for intent_id in sorted(set(ours) | set(theirs)):
            payment, charge = ours.get(intent_id), theirs.get(intent_id)
            if payment is None:
                problems.append(f"Stripe charged {charge['amount']} on {intent_id}: not ours")
            elif charge is None:
                problems.append(f"payment {payment.id} succeeded, Stripe has no charge for it")
            elif (charge["amount"], charge["id"]) != (payment.amount, payment.stripe_charge_id):
                problems.append(
                    f"payment {payment.id}: {payment.amount} {payment.stripe_charge_id}, "
                    f"Stripe {charge['amount']} {charge['id']}"
                )
        our_refunds = list(
            db.session.scalars(select(Refund).where(Refund.status == RefundStatus.SUCCEEDED))
        )
        by_id = Counter(r.stripe_refund_id for r in our_refunds)
        their_refunds = {r["id"]: r for r in refunds}
        for refund in our_refunds:
            theirs_ = their_refunds.get(refund.stripe_refund_id)
            if theirs_ is None or theirs_["amount"] != refund.amount:
                problems.append(f"refund {refund.id} of {refund.amount}: Stripe has {theirs_}")
            elif theirs_["payment_intent"] != refund.payment.stripe_payment_intent_id:
                problems.append(f"refund {refund.id} is on another PaymentIntent at Stripe")
        for stripe_id in sorted(set(their_refunds) - set(by_id)):
            problems.append(f"Stripe refund {stripe_id} is not in our books")
        problems += [f"Stripe refund {i} booked {n} times" for i, n in by_id.items() if n > 1]

        payouts = list(
            db.session.scalars(select(Payout).where(Payout.status == PayoutStatus.SUCCEEDED))
        )
        transferred = sum(t["amount"] - t.get("amount_reversed", 0) for t in transfers)
        by_currency: dict[str, int] = Counter()
        for c in charges:
            by_currency[c["currency"].upper()] += c["amount"]
        for r in refunds:
            by_currency[r["currency"].upper()] -= r["amount"]
        fees: dict[str, int] = Counter()
        deducted: dict[str, int] = Counter()  # processing fees the creators' payouts bore
        for payout in payouts:
            fees[payout.currency] += payout.fee
            deducted[payout.currency] += payout.processing_fee
        # What Stripe kept of each charge, as its balance transactions say, and as we read it.
        kept: dict[str, int] = Counter()
        for txn in self.fake.objects("balance_transactions"):
            if txn["type"] == "charge":
                kept[txn["currency"].upper()] += txn["fee"]
        read: dict[str, int] = Counter()
        for payment in payments:
            if payment.processing_fee is None:
                problems.append(f"payment {payment.id}: its processing fee was never read")
            read[payment.currency] += payment.processing_fee or 0
        if kept != read:
            problems.append(f"Stripe kept {dict(kept)} in processing fees, we read {dict(read)}")
        if not self.fees and any(kept.values()):
            problems.append("processing fees were charged in a run without them")
        creators = {c.currency: 0 for c in self.campaigns}
        for campaign in self.campaigns:
            creators[campaign.currency] += ledger.balance(ledger.creator(campaign.project_id))
        currencies = sorted(set(by_currency) | set(creators))
        for currency in currencies:
            net = by_currency.get(currency, 0)
            books = creators.get(currency, 0) + fees.get(currency, 0) + deducted.get(currency, 0)
            if net != books:
                problems.append(
                    f"{currency}: Stripe kept {net} (charged - refunded), our books paid "
                    f"{books} to creators, platform fees and processing fees deducted"
                )
        if transferred != sum(p.net for p in payouts if p.stripe_transfer_id != "none"):
            problems.append(f"Stripe transferred {transferred}, our payouts say otherwise")
        if sorted(t["id"] for t in transfers) != sorted(
            p.stripe_transfer_id for p in payouts if p.stripe_transfer_id != "none"
        ):
            problems.append("Stripe's transfers are not our payouts")
        if ledger.balance(ledger.PLATFORM_FEES) != sum(fees.values()):
            problems.append("the platform's fee account is not the sum of the fees")
        balance = self.fake.http.get(f"{self.fake.url}/v1/balance", auth=AUTH, timeout=10).json()
        held: dict[str, int] = Counter()
        for part in ("available", "pending"):
            for fund in balance[part]:
                held[fund["currency"].upper()] += fund["amount"]
        # The platform keeps its fees, less the processing fees it bore (on refunded pledges).
        processing = dict(
            db.session.execute(
                select(LedgerEntry.currency, db.func.sum(LedgerEntry.amount))
                .where(LedgerEntry.account == ledger.PLATFORM_PROCESSING)
                .group_by(LedgerEntry.currency)
            ).all()
        )
        float_ = FLOAT if self.fees else 0
        for currency in sorted(set(held) | set(fees) | set(processing) | {"USD", "EUR"}):
            own = fees.get(currency, 0) + int(processing.get(currency, 0)) + float_
            if held.get(currency, 0) != own:
                problems.append(
                    f"{currency}: the platform's Stripe balance is {held.get(currency, 0)}, "
                    f"its books say {own} (fees earned less processing fees borne)"
                )
        db.session.rollback()
        return problems
