"""Shared pieces: Stripe-shaped errors, the platform balance and event delivery."""

import asyncio
from collections import defaultdict

from localstripe import resources as r
from localstripe import webhooks
from localstripe.errors import UserError

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
    """The platform account's balance: available and pending amounts per currency."""

    def __init__(self):
        self.available = defaultdict(int)
        self.pending = defaultdict(int)

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
        """Move pending funds (of one currency, or all) to available."""
        for c in [currency] if currency else list(self.pending):
            self.available[c] += self.pending.pop(c, 0)

    def set(self, available=None, pending=None):
        """Overwrite the given amounts, e.g. {"usd": 1000}."""
        for book, values in ((self.available, available), (self.pending, pending)):
            for c, amount in (values or {}).items():
                book[c.lower()] = to_int(amount, "amount", minimum=-(10**12))


ledger = Ledger()
_deliveries = set()


def _schedule_webhook(event):
    """Deliver like localstripe does, but remember the task so a reset can drop it."""
    task = asyncio.ensure_future(webhooks._send_webhook(event))
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)


def emit(type, obj):
    """Record an event about obj and deliver it to the registered webhooks."""
    _schedule_webhook(r.Event(type, obj))


def reset():
    """Forget the balance and drop webhook deliveries not yet made."""
    ledger.__init__()
    for task in list(_deliveries):
        task.cancel()


# localstripe's resources call schedule_webhook by the name they imported.
r.schedule_webhook = _schedule_webhook
