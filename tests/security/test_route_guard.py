"""Who may do what: every route of the site, for every kind of visitor, from one table.

The test walks ``app.url_map``: every rule and method (HEAD and OPTIONS aside, and the
static files) must have a row in ``ACCESS``, keyed by endpoint then method, saying what each
of five visitors gets. The objects the URLs point at come from one world
(``tests/security/conftest.py``): a live project with a held pledge of the backer, its two
tiers, its cover, the owner's ended project, each filled in by the URL variable's name.
A route added to the site without a row here fails the test, naming the route.

POSTs carry a valid CSRF token of the visitor's own session and a complete, valid form, so
a refusal is always the access rule at work, never a missing token or a bad field. Every
request except those marked ``DONE`` must leave every row of every table as it was. The
Stripe webhook has no CSRF token and no user: it is refused unsigned for everyone, and the
tests at the end check that a forged event changes nothing and a signed one counts once.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode, urlsplit

import pytest
import stripe
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter

from app import create_app
from app.extensions import db
from app.payouts.models import ConnectedAccount
from app.projects.models import Category
from tests.helpers import PASSWORD, gen_user
from tests.security.conftest import (
    TITLE,
    VISITORS,
    World,
    changed_tables,
    clear_flashes,
    flashed,
    rebuild_world,
    snapshot,
)

LOGIN = "login"  # 302 to the log in page (with next=); nothing else happens
DONE = "done"  # 302 after the action took effect: the database changed
REFUSED = "refused"  # 302 with a message saying why (danger or warning); nothing changed
REDIRECT = "redirect"  # 302 somewhere else than the log in page; nothing changed

IGNORED_METHODS = {"HEAD", "OPTIONS"}
STATIC_ENDPOINTS = {"static", "bootstrap.static"}
WEBHOOK = "pledges.webhook"

# fmt: off
ACCESS: dict[str, dict[str, tuple]] = {
    # endpoint:            method: (anonymous, backer,   owner,    moderator, admin)
    "main.index":          {"GET":  (200,      200,      200,      200,       200)},
    "accounts.login": {
        "GET":                     (200,      REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
        "POST":                    (200,      REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    "accounts.register": {
        "GET":                     (200,      REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
        "POST":                    (DONE,     REDIRECT, REDIRECT, REDIRECT,  REDIRECT),
    },
    # Logging out changes the session only, never a row.
    "accounts.logout":     {"POST": (LOGIN,    REDIRECT, REDIRECT, REDIRECT,  REDIRECT)},

    "projects.discover":   {"GET":  (200,      200,      200,      200,       200)},
    "projects.show":       {"GET":  (200,      200,      200,      200,       200)},
    "projects.upload":     {"GET":  (200,      200,      200,      200,       200)},
    "projects.mine":       {"GET":  (LOGIN,    200,      200,      200,       200)},
    "projects.new": {
        "GET":                     (LOGIN,    200,      200,      200,       200),
        "POST":                    (LOGIN,    DONE,     DONE,     DONE,      DONE),
    },
    # The project is live (public), so another user's request is a 403, not a 404;
    # moderators and admins moderate, they do not edit.
    "projects.edit": {
        "GET":                     (LOGIN,    403,      200,      403,       403),
        "POST":                    (LOGIN,    403,      DONE,     403,       403),
    },
    # A live project is neither submitted nor launched again: the owner is told why.
    "projects.submit":     {"POST": (LOGIN,    403,      REFUSED,  403,       403)},
    "projects.launch":     {"POST": (LOGIN,    403,      REFUSED,  403,       403)},
    "projects.cancel": {
        "GET":                     (LOGIN,    403,      200,      403,       403),
        "POST":                    (LOGIN,    403,      DONE,     403,       403),
    },

    "rewards.new": {
        "GET":                     (LOGIN,    403,      200,      403,       403),
        "POST":                    (LOGIN,    403,      DONE,     403,       403),
    },
    "rewards.edit": {
        "GET":                     (LOGIN,    403,      200,      403,       403),
        "POST":                    (LOGIN,    403,      DONE,     403,       403),
    },
    "rewards.close":       {"POST": (LOGIN,    403,      DONE,     403,       403)},
    "rewards.delete":      {"POST": (LOGIN,    403,      DONE,     403,       403)},

    # Anyone logged in may back the project but its owner; the backer already has a
    # pledge and is sent to it. Moderators and admins back projects like anyone else.
    "pledges.back": {
        "GET":                     (LOGIN,    REDIRECT, REFUSED,  200,       200),
        "POST":                    (LOGIN,    REDIRECT, REFUSED,  DONE,      DONE),
    },
    "pledges.mine":        {"GET":  (LOGIN,    200,      200,      200,       200)},
    # A pledge is its backer's alone: to everyone else, moderators and admins included,
    # it does not exist. (Moderators see money movements on the review page instead.)
    "pledges.show":        {"GET":  (LOGIN,    200,      404,      404,       404)},
    "pledges.pay":         {"GET":  (LOGIN,    REDIRECT, 404,      404,       404)},
    "pledges.complete":    {"GET":  (LOGIN,    REDIRECT, 404,      404,       404)},
    "pledges.abandon":     {"POST": (LOGIN,    REDIRECT, 404,      404,       404)},
    "pledges.change": {
        "GET":                     (LOGIN,    200,      404,      404,       404),
        "POST":                    (LOGIN,    DONE,     404,      404,       404),
    },
    "pledges.cancel": {
        "GET":                     (LOGIN,    200,      404,      404,       404),
        "POST":                    (LOGIN,    DONE,     404,      404,       404),
    },
    # No CSRF token, no session: Stripe signs instead. Unsigned, it is refused for everyone
    # (see the webhook tests below for forged, signed and repeated events).
    WEBHOOK:               {"POST": (400,      400,      400,      400,       400)},

    "moderation.queue":    {"GET":  (LOGIN,    403,      403,      200,       200)},
    "moderation.review":   {"GET":  (LOGIN,    403,      403,      200,       200)},
    # Review decisions do not apply to a live project: moderators are told so; suspending
    # it is what they may do.
    "moderation.decide": {
        "POST decision=approve":         (LOGIN, 403,   403,      REFUSED,   REFUSED),
        "POST decision=request-changes": (LOGIN, 403,   403,      REFUSED,   REFUSED),
        "POST decision=reject":          (LOGIN, 403,   403,      REFUSED,   REFUSED),
        "POST decision=suspend":         (LOGIN, 403,   403,      DONE,      DONE),
    },
    # Admins only; the held pledge has no refused refund, so the admin is told why.
    "moderation.retry_refund": {"POST": (LOGIN, 403,    403,      403,       REFUSED)},

    # Payout pages work on the visitor's own Stripe account, never one named in the URL.
    # Only the owner has one: connecting again only makes a new onboarding link, and the
    # return page stores the flags Stripe reports (a GET that writes: see test_csrf.py).
    "payouts.account":     {"GET":  (LOGIN,    200,      200,      200,       200)},
    "payouts.connect":     {"POST": (LOGIN,    DONE,     REDIRECT, DONE,      DONE)},
    "payouts.return_":     {"GET":  (LOGIN,    REDIRECT, DONE,     REDIRECT,  REDIRECT)},
    "payouts.refresh":     {"GET":  (LOGIN,    REDIRECT, REDIRECT, REDIRECT,  REDIRECT)},

    # The statement of the owner's ended project: money and backers' addresses, so only
    # its owner, moderators and admins; a backer of another project is refused.
    "statements.show":     {"GET":  (LOGIN,    403,      200,      200,       200)},
    "statements.backers_csv": {"GET": (LOGIN,  403,      200,      200,       200)},
}
# fmt: on

# URL variables, by name: which object of the world they point at.
URL_VALUES = {
    "project_id": "project_id",
    "pledge_id": "pledge_id",
    "tier_id": "tier_id",
    "name": "cover",
}
URL_OVERRIDES = {  # endpoint -> {variable: world attribute}, where another object is meant
    "statements.show": {"project_id": "ended_project_id"},
    "statements.backers_csv": {"project_id": "ended_project_id"},
}


def _category_id() -> str:
    return str(db.session.scalar(select(Category.id).where(Category.slug == "design")))


def _delivery() -> str:
    return f"{date.today().year + 2}-05"


def draft_form(_world: World) -> dict:
    return {
        "title": "Made by the visitor",
        "blurb": "New words.",
        "story": "A new story. " * 10,
        "category_id": _category_id(),
        "currency": "EUR",
        "goal": "999",
        "duration_days": "20",
        "creator_timezone": "UTC",
    }


def live_form(_world: World) -> dict:
    return {"title": "Changed by the visitor", "blurb": "New words.", "story": "New. " * 20}


def tier_form(_world: World) -> dict:
    return {"title": "Changed tier", "minimum": "5", "estimated_delivery": _delivery()}


# What each POST sends besides the CSRF token: a complete, valid form.
POST_DATA = {
    "accounts.login": lambda w: {"email": "nobody@example.com", "password": "not the password"},
    "accounts.register": lambda w: {
        "email": "newcomer@example.com",
        "display_name": "Newcomer",
        "password": "a long enough password",
        "confirm": "a long enough password",
    },
    "projects.new": draft_form,
    "projects.edit": live_form,
    "projects.cancel": lambda w: {"reason": "Changed my mind."},
    "rewards.new": tier_form,
    "rewards.edit": tier_form,
    "pledges.back": lambda w: {"tier_id": str(w.tier_id), "amount": "30"},
    "pledges.change": lambda w: {"tier_id": str(w.backed_tier_id), "amount": "30"},
    "moderation.decide": lambda w: {
        f"{prefix}-reason": "Because." for prefix in ("approve", "changes", "reject", "suspend")
    },
    "payouts.connect": lambda w: {"country": "US"},
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    variant: tuple[tuple[str, str], ...] = ()  # values of any(...) converters

    @property
    def key(self) -> str:
        return " ".join([self.method, *(f"{name}={value}" for name, value in self.variant)])

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


def routes_of(url_map) -> list[Route]:
    """Every rule and method the site answers, one entry per value of an any() converter."""
    found = []
    for rule in url_map.iter_rules():
        if rule.endpoint in STATIC_ENDPOINTS:
            continue
        variants: list[tuple[tuple[str, str], ...]] = [()]
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                variants = [
                    (*v, (name, item)) for v in variants for item in sorted(converter.items)
                ]
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.extend(Route(rule.endpoint, method, variant) for variant in variants)
    return sorted(found, key=str)


def _site_routes() -> list[Route]:
    """The routes, read from an app built only for this (no database is touched)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "routes", "DATABASE_URL": "sqlite://"},
            instance_path=instance,
        )
        return routes_of(app.url_map)


ROUTES = _site_routes()
assert all(len(row) == len(VISITORS) for rows in ACCESS.values() for row in rows.values())
MISSING = (
    "{route} is not in the access table: add it to ACCESS in tests/security/test_route_guard.py"
)


def url_of(app, route: Route, world: World) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == route.endpoint)
    overrides = URL_OVERRIDES.get(route.endpoint, {})
    values = dict(route.variant)
    for name in rule.arguments:
        if name in values:
            continue
        attribute = overrides.get(name) or URL_VALUES.get(name)
        assert attribute, f"{route}: say in URL_VALUES what <{name}> points at"
        values[name] = getattr(world, attribute)
    return app.url_map.bind("localhost").build(route.endpoint, values, method=route.method)


def post_data(route: Route, world: World) -> dict:
    make = POST_DATA.get(route.endpoint)
    return make(world) if make else {}


def send(app, route: Route, world: World, visitor: str):
    client = world.clients[visitor]
    url = url_of(app, route, world)
    clear_flashes(client)  # only this request's messages are left to look at
    if route.method == "GET":
        return client.get(url)
    if route.endpoint == WEBHOOK:
        body = json.dumps(forged_events(world)["refund behind our back"])
        return client.post(url, data=body, content_type="application/json")
    data = {"csrf_token": world.tokens[visitor], **post_data(route, world)}
    return client.post(url, data=data)


def judge(expected, response, client, before: dict, after: dict) -> str | None:
    """Why the answer is not the expected one, or None."""
    code, location = response.status_code, response.headers.get("Location", "")
    changed = changed_tables(before, after)
    got = f"got {code} {location}".strip()
    if expected == LOGIN:
        if code != 302 or urlsplit(location).path != "/login" or "next=" not in location:
            return f"expected the log in page, {got}"
    elif expected in (DONE, REFUSED, REDIRECT):
        if code != 302 or urlsplit(location).path == "/login":
            body = response.get_data(as_text=True)[:300]
            return f"expected a redirect ({expected}), {got}: {body}"
    elif code != expected:
        return f"expected {expected}, {got}"
    if expected == DONE and not changed:
        return "answered as done but changed nothing"
    if expected != DONE and changed:
        return f"expected no change ({expected}) but it changed {changed}"
    if expected == REFUSED and not any(c in ("danger", "warning") for c, _ in flashed(client)):
        return "refused without telling why (no danger or warning message)"
    return None


# ---- the table ------------------------------------------------------------------------------


def test_every_route_of_the_site_is_in_the_table(app):
    routes = {str(r) for r in routes_of(app.url_map)}
    table = {f"{endpoint} {key}" for endpoint, rows in ACCESS.items() for key in rows}
    missing = sorted(routes - table)
    assert not missing, "\n".join(MISSING.format(route=r) for r in missing)
    stale = sorted(table - routes)
    assert not stale, f"ACCESS has rows for routes the site no longer has: {stale}"


# Requests after which the visitor's session is no longer what the next route expects.
SESSION_CHANGING = {"accounts.logout"}


@pytest.mark.parametrize("visitor", VISITORS)
def test_route_guard(app, stripe_fake, world, visitor):
    """Every route in turn as this visitor; after a request that changed something (or the
    visitor's session), a fresh world, so each row is checked against the same starting point."""
    failures = []
    for route in ROUTES:
        row = ACCESS.get(route.endpoint, {}).get(route.key)
        if row is None:
            failures.append(MISSING.format(route=route))
            continue
        expected = row[VISITORS.index(visitor)]
        client = world.clients[visitor]
        before = snapshot()
        response = send(app, route, world, visitor)
        after = snapshot()
        problem = judge(expected, response, client, before, after)
        body = response.get_data().decode("utf-8", "replace")
        response.close()  # a sent file stays open until closed
        if problem:
            failures.append(f"{route}: {problem}")
        elif expected in (LOGIN, 403, 404) and TITLE in body:
            failures.append(f"{route}: a refused page shows the project's title")
        if after != before or route.endpoint in SESSION_CHANGING:
            world = rebuild_world(app, stripe_fake)
    assert not failures, f"as {visitor}:\n" + "\n".join(failures)


# ---- the Stripe webhook ---------------------------------------------------------------------


def forged_events(world: World) -> dict[str, dict]:
    """Events that would change money or payouts if the platform believed them."""
    owner_account = db.session.scalar(
        select(ConnectedAccount.stripe_account_id).where(
            ConnectedAccount.user_id == world.user_ids["owner"]
        )
    )
    db.session.rollback()
    objects = {
        "dispute": (
            "charge.dispute.created",
            {"id": "dp_forged", "object": "dispute", "payment_intent": world.payment_intent_id},
        ),
        "refund behind our back": (  # (charge.refunded lists its refunds from Stripe)
            "refund.updated",
            {
                "id": "re_forged",
                "object": "refund",
                "payment_intent": world.payment_intent_id,
                "amount": 2500,
                "status": "succeeded",
                "metadata": {},
            },
        ),
        "payouts switched off": (
            "account.updated",
            {
                "id": owner_account,
                "object": "account",
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
            },
        ),
    }
    return {
        name: {
            "id": f"evt_forged_{i}",
            "object": "event",
            "type": type_,
            "data": {"object": obj},
            "api_version": "2020-08-27",
            "created": int(time.time()),
        }
        for i, (name, (type_, obj)) in enumerate(objects.items())
    }


def signature(body: str, secret: str, timestamp: int | None = None) -> str:
    ts = timestamp or int(time.time())
    return f"t={ts},v1={stripe.WebhookSignature._compute_signature(f'{ts}.{body}', secret)}"


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


# ---- where log in sends the visitor -------------------------------------------------------

OFF_SITE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "////evil.example/",  # werkzeug shortens it to //evil.example/ in the Location header
    "/\\evil.example/",
    "\\/evil.example/",
    "/\t/evil.example/",  # browsers drop tabs and newlines from URLs
    "/\t//evil.example/",
    "/\r\n/evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    " //evil.example/",
]


@pytest.mark.parametrize("target", OFF_SITE_NEXT)
def test_log_in_never_sends_the_visitor_off_site(browser, target):
    gen_user()
    url = "/login?" + urlencode({"next": target})
    response = browser.submit(url, {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/projects/1", "/discover?q=lamp&sort=ending", "/my/pledges"])
def test_log_in_goes_on_to_a_page_of_the_site(browser, target):
    gen_user()
    url = "/login?" + urlencode({"next": target})
    response = browser.submit(url, {"email": "ada@example.com", "password": PASSWORD})
    assert response.headers["Location"] == target
