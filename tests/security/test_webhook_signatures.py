"""The Stripe webhook has no CSRF token and no user: only Stripe's signature opens it.

A forged event (one that would change money or payouts if the platform believed it) is
refused, unsigned or badly signed, whoever sends it, and changes nothing; the same event,
signed, counts once. (The access table, tests/security/test_access.py, has its row too.)
"""

from __future__ import annotations

import json
import time

from tests.helpers.rows import changed_tables, snapshot
from tests.helpers.webhooks import forged_events, signature
from tests.helpers.world import VISITORS


def test_unsigned_or_forged_webhooks_are_refused_for_everyone(app, world):
    """No session, token or role opens the webhook: only Stripe's signature does."""
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    for name, event in forged_events(world).items():
        body = json.dumps(event)
        attempts = {
            "unsigned": {},
            "garbage signature": {"Stripe-Signature": "t=1,v1=deadbeef"},
            "another secret": {"Stripe-Signature": signature(body, "whsec_attacker")},
            "stale": {"Stripe-Signature": signature(body, secret, int(time.time()) - 3600)},
        }
        for visitor in VISITORS:
            for attempt, headers in attempts.items():
                before = snapshot()
                response = world.clients[visitor].post(
                    "/stripe/webhook",
                    data=body,
                    headers={**headers, "X-CSRFToken": world.tokens[visitor]},
                    content_type="application/json",
                )
                where = f"{name}, {attempt}, as {visitor}"
                assert response.status_code == 400, where
                assert "signature" in response.get_data(as_text=True), where
                assert snapshot() == before, where


def test_a_signed_event_is_applied_once(app, client, world):
    """The same bodies, signed: they do change things (so the 400s above were the signature
    at work), and a second delivery of one event changes nothing."""
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    for name, event in forged_events(world).items():
        body = json.dumps(event)
        headers = {"Stripe-Signature": signature(body, secret)}
        before = snapshot()
        response = client.post(
            "/stripe/webhook", data=body, headers=headers, content_type="application/json"
        )
        assert response.status_code == 200, name
        assert response.json["result"] == "ok", name
        middle = snapshot()
        assert "stripe_events" in changed_tables(before, middle), name
        assert len(changed_tables(before, middle)) > 1, f"{name} changed nothing"
        again = client.post(
            "/stripe/webhook", data=body, headers=headers, content_type="application/json"
        )
        assert again.json["result"] == "duplicate", name
        assert snapshot() == middle, name
