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

    # ---- customers and payments (for the load test: each call sleeps the set latency) ----
    #
    # Several processes (gunicorn workers) each have their own instance, so ids carry a
    # token per process, and reading an intent back needs no state: the simulated backer's
    # browser has confirmed the card, so an intent reads as ``intent_outcome``.

    intent_outcome = "succeeded"

    def _sim_id(self, kind: str, n: int) -> str:
        import os
        import secrets

        if getattr(self, "_token_pid", None) != os.getpid():
            self._token_pid = os.getpid()
            self._token = f"{os.getpid():x}{secrets.token_hex(3)}"
        return f"{kind}_sim_{self._token}_{n}"

    def create_customer(self, email: str, name: str, key: str) -> str:
        def customer(params, options=None):
            return self._serve(
                "customer", key, lambda n: SimpleNamespace(id=self._sim_id("cus", n))
            )

        return self._call(customer, {"email": email}, None).id

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str,
        metadata: dict[str, str],
        transfer_group: str,
        description: str,
        key: str,
    ):
        from app.payments.gateway import Intent

        def create(params, options=None):
            def make(n: int) -> SimpleNamespace:
                intent_id = self._sim_id("pi", n)
                return SimpleNamespace(
                    id=intent_id,
                    amount=amount,
                    currency=currency.lower(),
                    client_secret=f"{intent_id}_secret_sim",
                    metadata=dict(metadata),
                )

            return self._serve("payment_intent", key, make)

        pi = self._call(create, {"amount": amount}, None)
        return Intent(
            id=pi.id,
            status="requires_payment_method",
            amount=pi.amount,
            currency=pi.currency,
            client_secret=pi.client_secret,
            metadata=pi.metadata,
        )

    def retrieve_payment_intent(self, intent_id: str):
        return self._intent_as(intent_id, self.intent_outcome, "retrieve_payment_intent")

    def cancel_payment_intent(self, intent_id: str):
        return self._intent_as(intent_id, "canceled", "cancel_payment_intent")

    def confirm_payment_intent(self, intent_id: str, payment_method: str):
        return self._intent_as(intent_id, "succeeded", "confirm_payment_intent")

    def _intent_as(self, intent_id: str, status: str, kind: str):
        from app.payments.gateway import Intent

        def read(params, options=None):
            return self._serve(kind, None, lambda n: SimpleNamespace(id=intent_id))

        self._call(read, {}, None)
        suffix = intent_id.removeprefix("pi_")
        return Intent(
            id=intent_id,
            status=status,
            amount=0,  # not known to another process; the platform reads only status and charge
            currency="usd",
            charge_id=f"ch_{suffix}" if status == "succeeded" else None,
        )
