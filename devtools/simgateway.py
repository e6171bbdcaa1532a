"""A simulated Stripe for benchmarks and load tests: a set latency, no network.

It goes through the real gateway's throttle, retries and transaction guard (it subclasses
``StripeGateway`` and replaces only the SDK calls), and it enforces a server-side rate limit
like Stripe's, answering 429 beyond it, so the client's throttle is what keeps it happy.
"""

from __future__ import annotations

import itertools
import threading
import time
from types import SimpleNamespace

import stripe
from pyrate_limiter import Duration, Limiter, Rate

from app.payments.gateway import StripeGateway


class SimulatedGateway(StripeGateway):
    def __init__(
        self,
        latency: float = 0.2,
        rate_limit: int = 25,
        server_rate_limit: int | None = None,
        attempts: int = 4,
    ) -> None:
        super().__init__(
            "sk_test_simulated",
            api_base="http://simulated.invalid",
            attempts=attempts,
            max_wait=2.0,
            rate_limit=rate_limit,
        )
        self.latency = latency
        limit = server_rate_limit or rate_limit
        # Stripe's side: a little slack over the advertised rate, then 429 (0: no limit).
        self.server = Limiter(Rate(int(limit * 1.2) + 1, Duration.SECOND)) if limit else None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.rejected = 0
        self.by_key: dict[str, SimpleNamespace] = {}

    def _serve(self, kind: str, key: str | None, make) -> SimpleNamespace:
        if self.server is not None and not self.server.try_acquire("stripe", blocking=False):
            with self._lock:
                self.rejected += 1
            raise stripe.RateLimitError("Too many requests", http_status=429, code="rate_limit")
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.calls[kind] = self.calls.get(kind, 0) + 1
            if key and key in self.by_key:
                return self.by_key[key]  # idempotent replay, as Stripe does
            obj = make(next(self._ids))
            if key:
                self.by_key[key] = obj
            return obj

    def create_refund(
        self, *, payment_intent: str, amount: int, metadata: dict[str, str], key: str
    ):
        from app.payments.gateway import RefundResult

        def refund(params, options=None):
            return self._serve(
                "refund",
                key,
                lambda n: SimpleNamespace(id=f"re_sim_{n}", status="succeeded", amount=amount),
            )

        result = self._call(refund, {"payment_intent": payment_intent}, None)
        return RefundResult(
            id=result.id, status=result.status, amount=result.amount, metadata=metadata
        )

    def available_balance(self, currency: str) -> int:
        return 10**15

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: dict[str, str],
        key: str,
    ):
        from app.payments.gateway import Transfer

        def transfer(params, options=None):
            return self._serve("transfer", key, lambda n: SimpleNamespace(id=f"tr_sim_{n}"))

        result = self._call(transfer, {}, None)
        return Transfer(id=result.id, amount=amount, destination=destination)
