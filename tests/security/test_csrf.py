"""CSRF: every POST needs its session's token, and no GET changes anything.

The routes come from ``app.url_map``, so a new route is covered the day it is added. A POST
without a token (or with another session's, or a tampered one) is a 400 for every visitor,
including the one the route is for, and changes no row. A GET, by anyone, changes no row
either (a cross-site ``<img src>`` or a prefetch must never act), except the few pages
below where Stripe sends the browser back and the platform records what Stripe says.
"""

from __future__ import annotations

import pytest

from tests.helpers import Browser
from tests.helpers.pledging import latest_pledge, open_payment_of
from tests.helpers.routes import WEBHOOK, post_data, routes_of, url_of
from tests.helpers.rows import changed_tables, snapshot
from tests.helpers.world import VISITORS

# GETs that may write, and the only tables they may write to. Both are the return address
# of a step taken at Stripe, so they must be plain links (GET) that Stripe can redirect to.
GET_WRITES = {
    # Stripe's onboarding sends the creator back here; the page asks Stripe for the account's
    # flags and caches them (updated_at changes even when the flags do not). Only the
    # visitor's own account, never one named in the request.
    "payouts.return_": {"connected_accounts"},
    # Stripe.js sends the backer here after confirming the card; the page asks Stripe how
    # the payment went and records it once (conditional UPDATE), exactly as the webhook
    # would: the pledge is held, the totals and the ledger move, a late payment is refunded.
    "pledges.complete": {
        "payments",
        "pledges",
        "projects",
        "reward_tiers",
        "refunds",
        "ledger_transactions",
        "ledger_entries",
        "outbox",
        "funding_series",  # the project's total moved: so does its series
    },
}

CSRF_MESSAGES = (
    "The CSRF token is missing.",
    "The CSRF tokens do not match.",
    "The CSRF token is invalid.",
)


# POSTs without CSRF, on purpose: Stripe signs its webhook; a mail client's one-click
# unsubscribe (RFC 8058) cannot send a token, and the signed link it POSTs to authorises it
# (tests/notifications/test_creator_mail.py: a forged link is a 404 and changes nothing).
CSRF_EXEMPT = {WEBHOOK, "notifications.one_click"}


def post_routes(app):
    return [
        r for r in routes_of(app.url_map) if r.method == "POST" and r.endpoint not in CSRF_EXEMPT
    ]


def get_routes(app):
    return [r for r in routes_of(app.url_map) if r.method == "GET"]


@pytest.mark.parametrize("visitor", VISITORS)
def test_a_post_without_a_valid_token_is_refused_and_changes_nothing(app, world, visitor):
    client = world.clients[visitor]
    foreign = world.tokens["anonymous" if visitor != "anonymous" else "admin"]
    own = world.tokens[visitor]
    tampered = own[:-4] + ("AAAA" if not own.endswith("AAAA") else "BBBB")
    failures = []
    for route in post_routes(app):
        url = url_of(app, route, world)
        for name, token in (
            ("no token", None),
            ("another session's", foreign),
            ("tampered", tampered),
        ):
            data = post_data(route, world)
            if token is not None:
                data["csrf_token"] = token
            before = snapshot()
            response = client.post(url, data=data)
            body = response.get_data(as_text=True)
            if response.status_code != 400 or not any(m in body for m in CSRF_MESSAGES):
                failures.append(f"{route}, {name}: {response.status_code}, no CSRF refusal")
            if changed := changed_tables(before, snapshot()):
                failures.append(f"{route}, {name}: changed {changed}")
    assert not failures, f"as {visitor}:\n" + "\n".join(failures)


@pytest.mark.parametrize("visitor", VISITORS)
def test_no_get_changes_anything(app, world, visitor):
    """Every GET route as this visitor; and a GET of a POST-only route is a 405."""
    client = world.clients[visitor]
    failures = []
    for route in routes_of(app.url_map):
        if route.method != "GET" and any(
            r.endpoint == route.endpoint and r.method == "GET" for r in get_routes(app)
        ):
            continue  # the GET of this rule is checked on its own
        url = url_of(app, route, world)
        before = snapshot()
        response = client.get(url)
        response.close()
        changed = set(changed_tables(before, snapshot()))
        allowed = GET_WRITES.get(route.endpoint, set()) if route.method == "GET" else set()
        if changed - allowed:
            failures.append(f"GET {url} ({route}) changed {sorted(changed - allowed)}")
        if route.method != "GET" and response.status_code != 405:
            failures.append(f"GET {url} of a {route.method}-only route: {response.status_code}")
    assert not failures, f"as {visitor}:\n" + "\n".join(failures)


def test_the_allowed_get_writes_happen_only_where_listed(app, world, stripe_fake):
    """The pages of GET_WRITES do write, in their tables only, and only for their visitor."""
    # The owner's return from onboarding: Stripe's flags are stored again.
    before = snapshot()
    world.clients["owner"].get("/payouts/account/return")
    changed = changed_tables(before, snapshot())
    assert changed and set(changed) <= GET_WRITES["payouts.return_"], changed

    # The moderator backs the project and pays at Stripe; the browser comes back.
    moderator = Browser(world.clients["moderator"])
    response = moderator.submit(
        f"/projects/{world.project_id}/back", {"tier_id": str(world.tier_id), "amount": "30"}
    )
    assert response.status_code == 302
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    stripe_fake.pay(payment.stripe_payment_intent_id)
    url = f"/pledges/{pledge.id}/complete"
    for visitor in ("backer", "owner", "admin"):  # not theirs: 404, nothing recorded
        before = snapshot()
        assert world.clients[visitor].get(url).status_code == 404
        assert snapshot() == before, visitor
    before = snapshot()
    world.clients["moderator"].get(url)
    changed = changed_tables(before, snapshot())
    assert changed and set(changed) <= GET_WRITES["pledges.complete"], changed
    assert latest_pledge().status.value == "held"
    before = snapshot()
    world.clients["moderator"].get(url)  # the browser comes back twice: booked once
    assert snapshot() == before
