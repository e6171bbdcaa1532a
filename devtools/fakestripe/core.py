"""Shared pieces: settings, Stripe-shaped errors, the platform balance and event delivery."""

import asyncio
import contextvars
import copy
import hashlib
import heapq
import hmac
import json
import logging
import random
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import aiohttp
import stripe
from localstripe import resources as r
from localstripe import webhooks
from localstripe.errors import UserError

# Stripe's published card pricing (percent, fixed in minor units) and dispute fee, per currency
# of the platform's balance. USD, EUR and GBP are Stripe's standard prices for domestic cards in
# the US, the EEA and the UK; JPY is Stripe Japan's 3.6 % (no fixed part); Stripe publishes no
# CNY price: 2.9 % + 2.00 CNY (the USD price, its 30 cents converted) is an assumption.
# Currencies not listed use "default".
DEFAULT_FEES = {
    "usd": {"percent": "2.9", "fixed": 30, "dispute": 1500},
    "eur": {"percent": "1.5", "fixed": 25, "dispute": 2000},
    "gbp": {"percent": "1.5", "fixed": 20, "dispute": 2000},
    "jpy": {"percent": "3.6", "fixed": 0, "dispute": 1500},
    "cny": {"percent": "2.9", "fixed": 200, "dispute": 10000},
    "default": {"percent": "2.9", "fixed": 30, "dispute": 1500},
}
NO_FEES = {"default": {"percent": "0", "fixed": 0, "dispute": 0}}
TWO_DAYS = 2 * 24 * 3600  # Stripe's standard payout schedule for US accounts


class Settings:
    """What the command line and POST /_config/settings and /_config/fees configure.

    DELETE /_config/data puts back the values given at start (``startup``).
    """

    def __init__(self):
        self.api_version = stripe.api_version  # what the installed SDK pins
        self.fees = copy.deepcopy(DEFAULT_FEES)
        self.available_after = TWO_DAYS  # seconds until a charge's funds are available
        self.refund_failure_after = 1.0  # seconds until a refund of 4000000000005126 fails
        self.charge_refunds_in_events = False  # as Stripe since 2022-11-15: never embedded
        self.verification_after = 5.0  # seconds Stripe takes to check submitted account details
        # Webhooks: retried after webhook_retry seconds, doubling, at most webhook_attempts.
        self.webhook_retry = 1.0
        self.webhook_attempts = 8
        # Chaos: some events delivered twice, some held back 1/2..1 chaos_max_delay seconds.
        self.chaos = False
        self.chaos_seed = 0
        self.chaos_duplicates = 0.1
        self.chaos_delays = 0.1
        self.chaos_max_delay = 3.0
        self.startup = None

    NAMES = (
        "api_version",
        "available_after",
        "refund_failure_after",
        "charge_refunds_in_events",
        "verification_after",
        "webhook_retry",
        "webhook_attempts",
        "chaos",
        "chaos_seed",
        "chaos_duplicates",
        "chaos_delays",
        "chaos_max_delay",
    )
    SECONDS = (
        "available_after",
        "refund_failure_after",
        "verification_after",
        "webhook_retry",
        "chaos_max_delay",
    )
    FLAGS = ("charge_refunds_in_events", "chaos")
    SHARES = ("chaos_duplicates", "chaos_delays")

    def export(self):
        return {name: getattr(self, name) for name in self.NAMES} | {"fees": self.fees}

    def update(self, data):
        """Change the settings named in data (form strings or JSON values)."""
        for name, value in (data or {}).items():
            if name == "api_version" and isinstance(value, str) and value:
                self.api_version = value
            elif name in self.SECONDS or name in self.SHARES:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    number = -1
                if number < 0 or (name in self.SHARES and number > 1):
                    raise stripe_error(400, f"Invalid number: {value}", param=name)
                setattr(self, name, number)
            elif name in self.FLAGS:
                flag = r.try_convert_to_bool(value)
                if type(flag) is not bool:
                    raise stripe_error(400, f"Invalid boolean: {value}", param=name)
                setattr(self, name, flag)
            elif name in ("webhook_attempts", "chaos_seed"):
                setattr(self, name, to_int(value, name, minimum=int(name == "webhook_attempts")))
            elif name == "fees":
                self.set_fees(value)
            else:
                raise stripe_error(400, f"Unknown setting: {name}", param=name)
            if name in ("chaos", "chaos_seed") and deliveries is not None:
                deliveries.reseed()  # the same seed draws the same chaos again

    def set_fees(self, fees, replace=False):
        """Set the fee schedule of some currencies: {"usd": {"percent": 2.9, "fixed": 30}}."""
        if not isinstance(fees, dict):
            raise stripe_error(400, "Invalid fee schedule", param="fees")
        schedule = {} if replace else copy.deepcopy(self.fees)
        for currency, rule in fees.items():
            if not isinstance(rule, dict) or not set(rule) <= {"percent", "fixed", "dispute"}:
                raise stripe_error(400, f"Invalid fees for {currency}", param="fees")
            old = schedule.get(currency.lower(), schedule.get("default", NO_FEES["default"]))
            new = dict(old)
            try:
                if "percent" in rule:
                    percent = Decimal(str(rule["percent"]))
                    assert 0 <= percent <= 100
                    new["percent"] = str(percent)
            except Exception:
                raise stripe_error(400, f"Invalid percent for {currency}", param="fees") from None
            for part in ("fixed", "dispute"):
                if part in rule:
                    new[part] = to_int(rule[part], f"fees[{currency}][{part}]", minimum=0)
            schedule[currency.lower()] = new
        schedule.setdefault("default", dict(NO_FEES["default"]))
        self.fees = schedule

    def rule(self, currency):
        return self.fees.get(currency, self.fees.get("default", NO_FEES["default"]))

    def card_fee(self, currency, amount):
        """Stripe's processing fee for a card charge: a percentage (half up) plus a fixed part."""
        rule = self.rule(currency)
        share = (Decimal(amount) * Decimal(rule["percent"]) / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return int(share) + int(rule["fixed"])

    def dispute_fee(self, currency):
        return int(self.rule(currency)["dispute"])

    def remember_startup(self):
        self.startup = {name: getattr(self, name) for name in self.NAMES}
        self.startup["fees"] = copy.deepcopy(self.fees)

    def restore_startup(self):
        if self.startup is not None:
            for name, value in self.startup.items():
                setattr(self, name, copy.deepcopy(value))


settings = Settings()

# The API request being served, for the events it causes: Stripe's event.request.
current_request = contextvars.ContextVar("current_request", default=None)

BALANCE_INSUFFICIENT = (
    "You have insufficient available funds in your Stripe account. Try adding funds directly to"
    " your available balance by creating Charges using the 4000000000000077 test card. See:"
    " https://stripe.com/docs/testing#available-balance"
)


def stripe_error(status, message, code=None, type="invalid_request_error", **extra):
    """Return a UserError whose JSON body looks like one of Stripe's errors."""
    contents = {k: v for k, v in dict(code=code, **extra).items() if v is not None}
    error = UserError(status, message, contents)
    error.body["error"]["type"] = type
    return error


def reject_unknown(params):
    """Refuse unexpected parameters the way Stripe does."""
    if params:
        name = sorted(params)[0]
        raise stripe_error(
            400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
        )


def to_int(value, param, minimum=1):
    """Parse an integer parameter such as an amount, or fail like Stripe."""
    value = r.try_convert_to_int(value)
    if type(value) is not int or value < minimum:
        raise stripe_error(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param
        )
    return value


def money(amount, currency):
    """Format an amount the way Stripe's error messages do, e.g. $12.50."""
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency)
    return f"{symbol}{amount / 100:.2f}" if symbol else f"{amount / 100:.2f} {currency.upper()}"


class Ledger:
    """The platform account's balance: available and pending amounts per currency.

    Every movement also has its balance transaction; those still pending are kept in a heap by
    ``available_on`` and move their net amount to available once that time has come.
    """

    def __init__(self):
        self.available = defaultdict(int)
        self.pending = defaultdict(int)
        self.maturing = []  # heap of (available_on, balance transaction id)

    def mature(self, now=None):
        """Pending balance transactions whose available_on has come become available."""
        now = time.time() if now is None else now
        while self.maturing and self.maturing[0][0] <= now:
            _, txn_id = heapq.heappop(self.maturing)
            txn = r.store.get(f"balance_transaction:{txn_id}")
            if txn is not None and txn.status == "pending":
                txn.status = "available"
                self.pending[txn.currency] -= txn.net
                self.available[txn.currency] += txn.net

    def hold(self, txn):
        """A pending balance transaction: its net amount waits in pending until available_on."""
        self.pending[txn.currency] += txn.net
        heapq.heappush(self.maturing, (getattr(txn, "_available_at", txn.available_on), txn.id))

    def export(self):
        """Serialise like GET /v1/balance."""
        currencies = sorted(set(self.available) | set(self.pending)) or ["usd"]

        def funds(book):
            return [
                {"amount": book[c], "currency": c, "source_types": {"card": book[c]}}
                for c in currencies
            ]

        return {
            "object": "balance",
            "livemode": False,
            "available": funds(self.available),
            "pending": funds(self.pending),
        }

    def charge(self, currency, amount):
        """Card payments land in pending first, as on Stripe."""
        self.pending[currency] += amount

    def refund(self, currency, amount):
        """Refunds use the available balance first, then what is still pending."""
        from_available = min(amount, max(self.available[currency], 0))
        self.available[currency] -= from_available
        self.pending[currency] -= amount - from_available

    def spend(self, currency, amount):
        """Take a transfer out of the available balance, or fail with balance_insufficient."""
        if self.available[currency] < amount:
            raise stripe_error(400, BALANCE_INSUFFICIENT, code="balance_insufficient")
        self.available[currency] -= amount

    def make_available(self, currency=None):
        """Move pending funds (of one currency, or all) to available, as if their time had come."""
        now = int(time.time())
        kept = []
        for available_on, txn_id in self.maturing:
            txn = r.store.get(f"balance_transaction:{txn_id}")
            if txn is None or txn.status != "pending":
                continue
            if currency is None or txn.currency == currency:
                txn.status = "available"
                txn.available_on = min(txn.available_on, now)
            else:
                kept.append((available_on, txn_id))
        heapq.heapify(kept)
        self.maturing = kept
        for c in [currency] if currency else list(self.pending):
            self.available[c] += self.pending.pop(c, 0)

    def set(self, available=None, pending=None):
        """Overwrite the given amounts, e.g. {"usd": 1000}."""
        for book, values in ((self.available, available), (self.pending, pending)):
            for c, amount in (values or {}).items():
                book[c.lower()] = to_int(amount, "amount", minimum=-(10**12))


ledger = Ledger()
_deliveries = set()
log = logging.getLogger("aiohttp.access")
FIRST_DELIVERY = 1.0  # seconds after the event, as localstripe
WEBHOOK_TIMEOUT = 10.0  # seconds an endpoint has to answer


class Deliveries:
    """Webhook deliveries: what is still to be sent, and every attempt made since the reset.

    Each (event, endpoint) is delivered on its own, as on Stripe: retried with exponential
    backoff (``webhook_retry`` seconds, doubling) while the endpoint answers non-2xx or cannot
    be reached, at most ``webhook_attempts`` attempts. With ``chaos`` on, some events are sent
    twice and some held back so that later events overtake them, drawn from ``chaos_seed``.
    """

    def __init__(self):
        self.pending = {}  # delivery id -> {event, type, endpoint, attempt, next_attempt_at}
        self.attempts = []  # every attempt: event, type, endpoint, attempt, status, time
        self.delivered = set()  # (event id, endpoint id) that answered 2xx
        self.serial = 0
        self.sending = {}  # endpoint id -> asyncio.Lock: one request at a time, without chaos
        self.reseed()

    def reseed(self):
        self.rng = random.Random(settings.chaos_seed)  # noqa: S311 - replayable test chaos

    def chaos(self):
        """(copies, extra delay) for the next event: 1 or 2 copies, 0 or a few seconds."""
        if not settings.chaos:
            return 1, 0.0
        rng = self.rng
        copies = 2 if rng.random() < settings.chaos_duplicates else 1
        delay = 0.0
        if rng.random() < settings.chaos_delays:
            delay = rng.uniform(settings.chaos_max_delay / 2, settings.chaos_max_delay)
        return copies, delay

    def export(self):
        return {
            "pending": sorted(self.pending.values(), key=lambda d: d["next_attempt_at"]),
            "attempts": list(self.attempts),
        }


deliveries = Deliveries()


def endpoints_for(event_type):
    """The registered webhook endpoints that want events of this type."""
    return [
        hook
        for hook in webhooks._webhooks.values()
        if hook.events is None or event_type in hook.events
    ]


def sign(secret, payload, timestamp):
    """Stripe-Signature for a payload sent at timestamp (each attempt signs anew)."""
    signed = b"%d.%s" % (timestamp, payload)
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


async def _post(hook, event_type, payload):
    """One attempt: the HTTP status, or the connection error's text."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign(hook.secret, payload, int(time.time())),
    }
    try:
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(hook.url, data=payload, headers=headers) as response,
        ):
            log.info('webhook "%s" answered %d', event_type, response.status)
            return response.status
    except (TimeoutError, aiohttp.ClientError) as e:
        log.info('webhook "%s" failed: %s', event_type, e or type(e).__name__)
        return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


async def _deliver(event, payload, hook_id, delay):
    """Deliver one event to one endpoint, retrying with backoff until it answers 2xx."""
    book = deliveries
    book.serial += 1
    key = f"whd_{book.serial}"
    entry = {"id": key, "event": event.id, "type": event.type, "endpoint": hook_id}
    attempts = max(1, int(settings.webhook_attempts))
    backoff = settings.webhook_retry
    try:
        for attempt in range(1, attempts + 1):
            if attempt > 1 and (event.id, hook_id) in book.delivered:
                return  # the other copy of a duplicate got through
            book.pending[key] = entry | {"attempt": attempt, "next_attempt_at": time.time() + delay}
            await asyncio.sleep(delay)
            hook = webhooks._webhooks.get(hook_id)  # as registered now
            if hook is None:
                return  # the endpoint was removed
            if settings.chaos:  # deliveries race, as they may on Stripe
                status = await _post(hook, event.type, payload)
            else:  # one at a time per endpoint, so events due in order arrive in order
                async with book.sending.setdefault(hook_id, asyncio.Lock()):
                    status = await _post(hook, event.type, payload)
            ok = isinstance(status, int) and 200 <= status < 300
            done = {"attempt": attempt, "status": status, "time": time.time(), "waited": delay}
            book.attempts.append(entry | done)
            if ok:
                if (event.id, hook_id) not in book.delivered:
                    book.delivered.add((event.id, hook_id))
                    event.pending_webhooks = max(0, event.pending_webhooks - 1)
                return
            delay = backoff * 2 ** (attempt - 1)
        log.info('webhook "%s" to %s: gave up after %d attempts', event.type, hook_id, attempts)
    finally:
        book.pending.pop(key, None)


def _start(coro):
    task = asyncio.ensure_future(coro)
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)


def _schedule_webhook(event):
    """Deliver the event as it is now (about 1 s later) to each endpoint that wants it; a
    reset drops what is not delivered yet. With chaos on, maybe twice, maybe held back."""
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
    copies, extra = deliveries.chaos()
    for hook_id, hook in list(webhooks._webhooks.items()):
        if hook.events is not None and event.type not in hook.events:
            continue
        _start(_deliver(event, payload, hook_id, FIRST_DELIVERY + extra))
        if copies > 1:  # the second copy comes a little after the first
            second = FIRST_DELIVERY + extra + 0.1 + deliveries.rng.uniform(0, 1)
            _start(_deliver(event, payload, hook_id, second))


def diff(before, after):
    """Stripe's data.previous_attributes: the old values of what changed (nested for hashes)."""
    changed = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and old.get("object") != "list":
            changed[key] = diff(old, new)
        else:
            changed[key] = old
    return changed


def emit(type, obj, before=None):
    """Record an event about obj and deliver it to the registered webhooks.

    ``before`` (obj exported before a change) gives *.updated events their previous_attributes.
    """
    if before is not None:
        obj._before_update = before
    _schedule_webhook(r.Event(type, obj))


def later(delay, func):
    """Run func after delay seconds, outside any API request (its events have no request)."""

    async def run():
        await asyncio.sleep(delay)
        current_request.set(None)
        func()

    task = asyncio.ensure_future(run())
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)


def reset():
    """Forget the balance, drop webhook deliveries and timers not yet run, restore settings."""
    ledger.__init__()
    settings.restore_startup()
    for task in list(_deliveries):
        task.cancel()
    deliveries.__init__()


# localstripe's resources call schedule_webhook by the name they imported.
r.schedule_webhook = _schedule_webhook
