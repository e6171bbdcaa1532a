"""Bad input, fuzzed with hypothesis: every form and the webhook, never a 500, no partial write.

Each test posts to one form, from one client logged in once for the whole test function
(hypothesis runs many examples in one call), a valid submission with up to three fields
changed: set to a random or boundary value (unicode, control characters, huge strings,
numbers as strings, negative, huge, NaN, decimals with many digits, empty), left out, or
sent twice. For every example:

* the answer is never a 500 (in tests an unhandled exception fails the call itself): the
  form is re-rendered with its error (200), or the answer is a redirect or a 4xx;
* a refused submission leaves the database exactly as it was (every row of every table);
* an accepted one stored only values within the form's rules; the test then puts things
  back (deletes the new row, restores the changed one, abandons the payment, ...) so the
  next example starts from the same place, or checks relative to where it is.

The Stripe webhook gets random bodies and headers (400, never a 500, nothing stored) and
signed bodies that are not events (400) or are events nobody expects (200, booked once).
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
import stripe
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import delete, func, insert, select, update
from werkzeug.datastructures import MultiDict
from werkzeug.security import check_password_hash

from app import clock, money
from app.accounts.models import Role, User
from app.audit import books
from app.extensions import db, limiter
from app.i18n import countries
from app.notifications.models import Outbox
from app.payouts.models import ConnectedAccount
from app.payouts.services import COUNTRIES
from app.pledges import checkout
from app.pledges.models import Payment, PaymentStatus, Pledge, PledgeStatus, StripeEvent
from app.projects.forms import timezone_choices
from app.projects.models import Category, Project, ProjectEvent, ProjectRevision
from app.rewards.models import RewardTier, TierShippingRule
from tests.helpers import PASSWORD, Browser, gen_project, gen_tier, gen_user, parse_forms
from tests.helpers.forms import PROJECT as PROJECT_FIELDS
from tests.helpers.fuzzing import fuzz, values
from tests.helpers.pledging import pay_through_pages
from tests.helpers.rows import snapshot

# ---- values and bodies ----------------------------------------------------------------------

NUMERIC = [
    *("", "0", "-0", "-1", "1", "0.01", "0.001", "10.001", "1e5", "1E400", "1e999999999"),
    *("-1e999999999", "1e-999999999", "NaN", "-NaN", "sNaN", "Infinity", "-inf", "9" * 400),
    *("100000000", "100000000.01", "1000000", "1000001", "9223372036854775808", "1,000.50"),
    *("$1,250.50", "١٢٣", "\uff11\uff12", "0x10", " 25 ", "25.", ".5", "2.50000000000000000001"),
]


def numbers() -> st.SearchStrategy[str]:
    """Numbers as people (and robots) type them: signs, exponents, decimals, scripts."""
    return st.one_of(
        st.sampled_from(NUMERIC),
        st.integers().map(str),
        st.integers(-(10**30), 10**30).map(str),
        st.builds(
            lambda sign, n: sign + "9" * n, st.sampled_from(["", "-"]), st.integers(300, 5000)
        ),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats().map(repr),
        st.builds(lambda m, e: f"{m}e{e}", st.integers(-99, 10**6), st.integers(-(10**10), 10**10)),
        st.builds(
            lambda w, f: f"{w}.{f}",
            st.integers(0, 10**9),
            st.text("0123456789", min_size=1, max_size=80),
        ),
    )


NUMBER_FIELDS = {
    "goal",
    "minimum",
    "amount",
    "destinations-0-fee",
    "quantity_limit",
    "duration_days",
    "tier_id",
    "category_id",
}
TOKEN = "<the session's CSRF token>"  # stands for the token in base bodies
HOW = ("set", "drop", "twice", "twice-first")


@st.composite
def bodies(draw, base: dict[str, str], extra: tuple[str, ...] = ()):
    """``base`` with up to three fields changed; a list of (name, value) pairs."""
    names = sorted({*base, "csrf_token", "unexpected", *extra})
    changed = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    changes = {
        name: (
            draw(st.sampled_from(HOW)),
            draw(st.one_of(numbers(), values()) if name in NUMBER_FIELDS else values()),
        )
        for name in changed
    }
    pairs: list[tuple[str, str]] = []
    for name in names:
        original = base.get(name)
        how, value = changes.get(name, ("keep", ""))
        kept = [] if original is None else [(name, original)]
        pairs += {
            "keep": kept,
            "set": [(name, value)],
            "drop": [],
            "twice": [*kept, (name, value)],
            "twice-first": [(name, value), *kept],
        }[how]
    return pairs


def post(client, url: str, pairs: list[tuple[str, str]], token: str):
    data = MultiDict([(k, token if v == TOKEN else v) for k, v in pairs])
    return client.post(url, data=data)


def first(pairs: list[tuple[str, str]], name: str) -> str | None:
    """What a form field reads: the first value sent under its name."""
    return next((v for k, v in pairs if k == name), None)


ANSWERS = {200, 302, 303, 400, 403, 404, 405, 409, 413}


def check_answer(response) -> None:
    code = response.status_code
    event(f"answered {code}")  # shown by --hypothesis-show-statistics
    assert code < 500 and code in ANSWERS, f"answered {code}"
    if code == 200:
        page = response.get_data(as_text=True)
        assert "invalid-feedback" in page or "alert-danger" in page, "re-rendered, no error"


def row_of(model, row_id: int) -> dict:
    """One row's columns, to put it back as it was."""
    table = model.__table__
    row = db.session.execute(select(table).where(table.c.id == row_id)).mappings().one()
    return dict(row)


def restore(model, values: dict) -> None:
    table = model.__table__
    db.session.execute(update(table).where(table.c.id == values["id"]).values(**values))


def rules_of(tier_id: int) -> list[dict]:
    table = TierShippingRule.__table__
    query = select(table).where(table.c.tier_id == tier_id).order_by(table.c.id)
    return [dict(row) for row in db.session.execute(query).mappings()]


def assert_shipping_within_rules(tier) -> None:
    """Digital, or known destinations each once, with fees from 0 to the largest amount."""
    destinations = [r.destination for r in tier.shipping_rules]
    assert len(destinations) == len(set(destinations)) <= 5
    assert all(d in ("domestic", "europe", "world") or d in countries.codes() for d in destinations)
    assert all(0 <= r.fee <= money.max_minor("USD") for r in tier.shipping_rules)


def max_id(model) -> int:
    return db.session.scalar(select(func.coalesce(func.max(model.id), 0)))


def csrf_of(client, url: str) -> str:
    for form in parse_forms(client.get(url).get_data(as_text=True)):
        if "csrf_token" in form["fields"]:
            return form["fields"]["csrf_token"]
    raise AssertionError(f"no CSRF token on {url}")


def logged_in(app, email: str):
    client = app.test_client()
    assert Browser(client).login(email).status_code == 302
    return client


# ---- accounts -------------------------------------------------------------------------------

REGISTER = {
    "email": "newcomer@example.com",
    "display_name": "Newcomer",
    "password": PASSWORD,
    "confirm": PASSWORD,
    "csrf_token": TOKEN,
}


@pytest.fixture
def anonymous(app):
    client = app.test_client()
    return client, csrf_of(client, "/register")


@fuzz(70)
@given(pairs=bodies(REGISTER))
def test_register(app, no_rate_limits, anonymous, pairs):
    client, token = anonymous
    before, last = snapshot(), max_id(User)
    response = post(client, "/register", pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    (user,) = db.session.scalars(select(User).where(User.id > last))
    name, password = first(pairs, "display_name").strip(), first(pairs, "password")
    assert user.email == first(pairs, "email").strip().lower()
    assert user.display_name == name and 2 <= len(name) <= 80
    assert len(password) >= 10 and password == first(pairs, "confirm")
    assert check_password_hash(user.password_hash, password)
    assert user.email_verified_at is None  # proved only by the mailed link
    assert "Log out" not in client.get("/").get_data(as_text=True)  # nobody signed in
    db.session.execute(delete(Outbox).where(Outbox.user_id == user.id))  # the link's mail
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()
    assert snapshot() == before


LOGIN = {"email": "ada@example.com", "password": PASSWORD, "remember": "y", "csrf_token": TOKEN}


@pytest.fixture
def no_rate_limits(monkeypatch):
    """Failed log ins and sign ups are limited (429): off, so every example reaches the form."""
    monkeypatch.setattr(limiter, "enabled", False)


@fuzz(50)
@given(pairs=bodies(LOGIN))
def test_login(app, no_rate_limits, anonymous, pairs):
    """Log in writes nothing but the session it starts, whatever is sent."""
    client, token = anonymous
    if not db.session.scalar(select(func.count()).select_from(User)):
        gen_user()
    before = snapshot()
    response = post(client, "/login", pairs, token)
    check_answer(response)
    after = snapshot()
    if response.status_code == 302:
        assert first(pairs, "email").strip().lower() == "ada@example.com"
        assert first(pairs, "password") == PASSWORD
        assert len(after["user_sessions"]) == len(before["user_sessions"]) + 1
        before["user_sessions"] = after["user_sessions"]
        client.post("/logout", data={"csrf_token": token})
    assert after == before


# ---- projects and tiers ---------------------------------------------------------------------

PROJECT = {**PROJECT_FIELDS, "csrf_token": TOKEN}
DRAFT_COLUMNS = ("category_id", "currency", "goal_amount", "duration_days", "creator_timezone")


@pytest.fixture
def creator(app):
    user = gen_user("creator@example.com", "Cora")
    client = logged_in(app, "creator@example.com")
    return user, client, csrf_of(client, "/projects/new")


def assert_project_within_rules(project: Project, was: dict | None) -> None:
    assert 1 <= len(project.title) <= 80 and project.title == project.title.strip()
    assert len(project.blurb) <= 160 and project.blurb == project.blurb.strip()
    assert len(project.story) <= 50_000
    if was is not None and was["status"] is not None and was["status"].value == "live":
        for column in DRAFT_COLUMNS:  # fixed once live, whatever was posted
            assert getattr(project, column) == was[column], column
        return
    assert project.currency in money.CURRENCIES
    assert 0 < project.goal_amount <= money.max_minor(project.currency)
    assert 1 <= project.duration_days <= 60
    assert project.creator_timezone in {c.value for c in timezone_choices()}
    assert db.session.get(Category, project.category_id) is not None


@pytest.mark.parametrize("page", ["new", "draft", "live"])
@fuzz(45)
@given(pairs=bodies(PROJECT, extra=("status", "owner_id", "pledged_amount")))
def test_project_form(app, creator, page, pairs):
    owner, client, token = creator
    if page == "new":
        url, project_id, was = "/projects/new", None, None
    else:
        project = db.session.scalar(select(Project)) or gen_project(owner, page)
        url, project_id = f"/projects/{project.id}/edit", project.id
        was = row_of(Project, project_id)
    before, last, last_revision = snapshot(), max_id(Project), max_id(ProjectRevision)
    response = post(client, url, pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    assert response.headers["Location"].endswith("/edit")
    if project_id is None:
        (project,) = db.session.scalars(select(Project).where(Project.id > last))
        assert (project.status.value, project.owner_id, project.pledged_amount) == (
            "draft",
            owner.id,
            0,
        )
        assert_project_within_rules(project, None)
        db.session.execute(delete(Project).where(Project.id == project.id))
    else:
        project = db.session.get(Project, project_id)
        assert (project.status, project.pledged_amount) == (was["status"], was["pledged_amount"])
        assert_project_within_rules(project, was)
        restore(Project, was)
        # A live project's change is kept as revisions: made by the server, for this project.
        made = db.session.scalars(select(ProjectRevision).where(ProjectRevision.id > last_revision))
        assert {(r.project_id, r.editor_id) for r in made} <= {(project_id, owner.id)}
        db.session.execute(delete(ProjectRevision).where(ProjectRevision.id > last_revision))
    db.session.commit()
    assert snapshot() == before


TIER = {
    "title": "Early bird",
    "description": "One lamp.",
    "minimum": "45",
    "quantity_limit": "",
    "estimated_delivery": "2030-03",
    "ships": "y",
    "destinations-0-destination": "world",
    "destinations-0-fee": "5",
    "destinations-1-destination": "FR",
    "destinations-1-fee": "9",
    "csrf_token": TOKEN,
}


@pytest.mark.parametrize("page", ["new", "edit"])
@fuzz(40)
@given(pairs=bodies(TIER, extra=("claimed", "project_id", "is_closed")))
def test_tier_form(app, creator, page, pairs):
    owner, client, token = creator
    project = db.session.scalar(select(Project)) or gen_project(owner, "draft", tiers=1)
    tier_id = project.tiers[0].id
    url = f"/projects/{project.id}/tiers/new" if page == "new" else f"/tiers/{tier_id}/edit"
    was = row_of(RewardTier, tier_id)
    rules = rules_of(tier_id)
    before, last = snapshot(), max_id(RewardTier)
    response = post(client, url, pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    if page == "new":
        (tier,) = db.session.scalars(select(RewardTier).where(RewardTier.id > last))
    else:
        tier = db.session.get(RewardTier, tier_id)
    assert tier.project_id == project.id and (tier.claimed, tier.is_closed) == (0, False)
    assert 1 <= len(tier.title) <= 80 and len(tier.description) <= 2000
    assert 0 < tier.minimum_amount <= money.max_minor("USD")
    assert tier.quantity_limit is None or 1 <= tier.quantity_limit <= 1_000_000
    today = clock.now().date()
    assert tier.estimated_delivery >= date(today.year, today.month, 1)
    assert_shipping_within_rules(tier)
    db.session.execute(delete(TierShippingRule).where(TierShippingRule.tier_id == tier.id))
    if page == "new":
        db.session.execute(delete(RewardTier).where(RewardTier.id == tier.id))
    else:
        restore(RewardTier, was)
        for rule in rules:
            db.session.execute(insert(TierShippingRule.__table__).values(**rule))
    db.session.commit()
    assert snapshot() == before


@fuzz(40)
@given(pairs=bodies({"reason": "Changed my mind.", "csrf_token": TOKEN}))
def test_project_cancel_form(app, creator, pairs):
    owner, client, token = creator
    project = db.session.scalar(select(Project)) or gen_project(owner, "live")
    was, before, last = row_of(Project, project.id), snapshot(), max_id(ProjectEvent)
    response = post(client, f"/projects/{project.id}/cancel", pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    (event,) = db.session.scalars(select(ProjectEvent).where(ProjectEvent.id > last))
    assert db.session.get(Project, project.id).status.value == "cancelled"
    assert event.reason == (first(pairs, "reason") or "").strip() and len(event.reason) <= 2000
    db.session.execute(delete(ProjectEvent).where(ProjectEvent.id == event.id))
    restore(Project, was)
    db.session.commit()
    assert snapshot() == before


@fuzz(40)
@given(pairs=bodies({"launch_on": "2027-01-15", "csrf_token": TOKEN}))
def test_plan_launch_form(app, creator, pairs):
    owner, client, token = creator
    project = db.session.scalar(select(Project)) or gen_project(owner, "approved")
    was, before = row_of(Project, project.id), snapshot()
    response = post(client, f"/projects/{project.id}/launch-date", pairs, token)
    check_answer(response)
    day = db.session.get(Project, project.id).launch_on
    if day is None:
        restore(Project, was)
        db.session.commit()
        assert snapshot() == before
        return
    today = clock.now().date()
    assert today - timedelta(days=1) <= day <= today + timedelta(days=366)
    restore(Project, was)
    db.session.commit()
    assert snapshot() == before


# ---- comments --------------------------------------------------------------------------------


@pytest.fixture
def commenter(app):
    """The creator of a live project (who may comment on it), logged in, and one comment."""
    from app.comments import services as comments

    owner = gen_user("creator@example.com", "Cora")
    project = gen_project(owner, "live")
    parent = comments.post(project, owner, "First")
    db.session.commit()
    client = logged_in(app, owner.email)
    return client, csrf_of(client, f"/projects/{project.id}/comments"), project.id, parent.id


@fuzz(60)
@given(pairs=bodies({"body": "When does it ship?", "parent_id": "", "csrf_token": TOKEN}))
def test_comment_form(app, no_rate_limits, commenter, pairs):
    from app.comments.models import Comment

    client, token, project_id, parent_id = commenter
    before, last = snapshot(), max_id(Comment)
    response = post(client, f"/projects/{project_id}/comments/new", pairs, token)
    check_answer(response)
    made = list(db.session.scalars(select(Comment).where(Comment.id > last)))
    if not made:
        assert snapshot() == before
        return
    (comment,) = made
    assert 1 <= len(comment.body) <= 5000 and comment.body == comment.body.strip()
    assert comment.project_id == project_id and comment.parent_id in (None, parent_id)
    db.session.execute(delete(Comment).where(Comment.id == comment.id))
    db.session.commit()
    assert snapshot() == before


@fuzz(40)
@given(pairs=bodies({"reason": "Off topic.", "csrf_token": TOKEN}))
def test_hide_form(app, commenter, pairs):
    from app.comments.models import Comment

    client, token, _project_id, comment_id = commenter
    was, before = row_of(Comment, comment_id), snapshot()
    response = post(client, f"/comments/{comment_id}/hide", pairs, token)
    check_answer(response)
    hidden = db.session.get(Comment, comment_id)
    db.session.refresh(hidden)
    if hidden.hidden_at is None:
        assert snapshot() == before
        return
    assert 1 <= len(hidden.hidden_reason) <= 500 and hidden.hidden_by.value == "creator"
    restore(Comment, was)
    db.session.commit()
    assert snapshot() == before


# ---- reports ---------------------------------------------------------------------------------


@pytest.fixture
def reporting(app):
    """A live project with a comment and an update, and a signed-in reader who reports them."""
    from app.comments import services as comments
    from app.updates import services as updates

    owner = gen_user("creator@example.com", "Cora")
    project = gen_project(owner, "live")
    comment = comments.post(project, owner, "Buy my other lamp")
    updates.publish(project, owner.id, "News", "Boxes.", True)
    gen_user("reader@example.com", "Reader")
    db.session.commit()
    client = logged_in(app, "reader@example.com")
    urls = {
        "project": f"/projects/{project.id}/report",
        "comment": f"/comments/{comment.id}/report",
        "update": f"/projects/{project.id}/updates/1/report",
    }
    return client, csrf_of(client, urls["project"]), urls, project.id


@pytest.mark.parametrize("target", ["project", "comment", "update"])
@fuzz(30)
@given(
    pairs=bodies(
        {"reason": "spam", "details": "Copied.", "csrf_token": TOKEN},
        extra=("status", "reporter_id", "project_id", "target_type", "decision_note"),
    )
)
def test_report_forms(app, no_rate_limits, reporting, target, pairs):
    from app.reports.models import Report, ReportReason

    client, token, urls, project_id = reporting
    before = snapshot()
    response = post(client, urls[target], pairs, token)
    check_answer(response)
    made = list(db.session.scalars(select(Report)))
    if not made:
        assert snapshot() == before
        return
    (report,) = made
    assert report.target_type == target and report.project_id == project_id
    assert report.reason in set(ReportReason) and report.status.value == "open"
    assert len(report.details) <= 2000 and report.decision_note == ""
    db.session.execute(delete(Report))
    db.session.execute(delete(Outbox))
    db.session.commit()
    assert snapshot() == before


# ---- moderation ------------------------------------------------------------------------------

DECISIONS = {
    "approve": "approve",
    "request-changes": "changes",
    "reject": "reject",
    "suspend": "suspend",
}
REASON_FIELDS = ("reason", "approve-reason", "changes-reason", "reject-reason", "suspend-reason")


@pytest.fixture
def moderator(app):
    creator = gen_user("creator@example.com", "Cora")
    queued = gen_project(creator, "submitted", title="Queued")
    live = gen_project(creator, "live", title="Live")
    gen_user("mod@example.com", "Mo", role=Role.MODERATOR)
    client = logged_in(app, "mod@example.com")
    return client, csrf_of(client, "/moderation/"), (queued.id, live.id)


@fuzz(80)
@given(data=st.data())
def test_moderation_decisions(app, moderator, data):
    client, token, projects = moderator
    decision = data.draw(st.sampled_from(sorted(DECISIONS)), label="decision")
    project_id = data.draw(st.sampled_from(projects), label="project")
    prefix = DECISIONS[decision]
    base = {f"{prefix}-reason": "Because.", f"{prefix}-csrf_token": TOKEN}
    pairs = data.draw(bodies(base, extra=REASON_FIELDS), label="body")
    was, before, last = row_of(Project, project_id), snapshot(), max_id(ProjectEvent)
    response = post(client, f"/moderation/projects/{project_id}/{decision}", pairs, token)
    check_answer(response)
    assert response.status_code in (302, 400)  # back to the queue or review, or CSRF refused
    if db.session.get(Project, project_id).status == was["status"]:
        assert snapshot() == before
        return
    (event,) = db.session.scalars(select(ProjectEvent).where(ProjectEvent.id > last))
    reason = (first(pairs, f"{prefix}-reason") or "").strip()
    assert event.reason == reason and len(reason) <= 2000
    assert reason or decision == "approve"
    told = db.session.scalar(  # a review decision is mailed to the creator at once
        select(func.count()).select_from(Outbox).where(Outbox.project_id == project_id)
    )
    assert told == (0 if decision == "suspend" else 1)  # suspending: when settled
    db.session.execute(delete(ProjectEvent).where(ProjectEvent.id == event.id))
    db.session.execute(delete(Outbox).where(Outbox.project_id == project_id))
    restore(Project, was)
    db.session.commit()
    assert snapshot() == before


# ---- pledges ---------------------------------------------------------------------------------


@pytest.fixture
def backing(app, stripe_fake):
    """A live project (a $10 tier, and a $20 one that ships for $5, 3 places), a backer."""
    creator = gen_user("creator@example.com", "Cora")
    project = gen_project(creator, "live", tiers=1)
    gen_tier(project, title="Lamp", minimum=2000, quantity_limit=3, shipping_fee=500)
    db.session.commit()
    gen_user("bea@example.com", "Bea")
    browser = Browser(logged_in(app, "bea@example.com"))
    return project.id, browser, stripe_fake


def pledge_body(project_id: int, draw_tier: int = 0) -> dict:
    tiers = db.session.get(Project, project_id).tiers
    return {
        "tier_id": str(tiers[draw_tier].id),
        "amount": "25",
        "shipping_country": "",
        "csrf_token": TOKEN,
    }


PLEDGE_EXTRA = ("backer_id", "status", "shipping_fee")


@fuzz(40)
@given(data=st.data())
def test_pledge_back_form(app, backing, data):
    project_id, browser, _stripe_fake = backing
    url = f"/projects/{project_id}/back"
    token = csrf_of(browser.client, url)
    pairs = data.draw(bodies(pledge_body(project_id), extra=PLEDGE_EXTRA))
    before, last = snapshot(), max_id(Pledge)
    response = post(browser.client, url, pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    (pledge,) = db.session.scalars(select(Pledge).where(Pledge.id > last))
    assert response.headers["Location"].endswith(f"/pledges/{pledge.id}/pay")
    tier = pledge.tier
    assert tier.project_id == project_id and tier.minimum_amount <= pledge.amount
    assert pledge.amount <= 1_000_000 * 100
    assert (pledge.shipping_country is not None) == tier.ships
    assert pledge.total == pledge.amount + (pledge.shipping_fee or 0)
    (payment,) = pledge.payments
    assert payment.amount == pledge.total and payment.stripe_payment_intent_id
    checkout.abandon(payment.id, "Fuzzed, then stopped.")  # the next example can pledge again
    assert db.session.get(Pledge, pledge.id).status is PledgeStatus.FAILED


@pytest.fixture
def held(backing):
    project_id, browser, stripe_fake = backing
    project = db.session.get(Project, project_id)
    pledge, _ = pay_through_pages(browser, stripe_fake, project)
    assert db.session.get(Pledge, pledge.id).status is PledgeStatus.HELD
    return pledge.id, project_id, browser, stripe_fake


@fuzz(30)
@given(data=st.data())
def test_pledge_change_form(app, held, data):
    """Relative: each accepted change starts the next example from where it left off."""
    pledge_id, project_id, browser, _fake = held
    url = f"/pledges/{pledge_id}/change"
    token = csrf_of(browser.client, url)
    pairs = data.draw(bodies(pledge_body(project_id), extra=PLEDGE_EXTRA))
    before = snapshot()
    response = post(browser.client, url, pairs, token)
    check_answer(response)
    if response.status_code != 302 or response.headers["Location"] == "/":
        assert snapshot() == before  # refused by the form, or by the rules (flash, rollback)
        return
    open_payment = db.session.scalar(
        select(Payment).where(
            Payment.pledge_id == pledge_id, Payment.status == PaymentStatus.PENDING
        )
    )
    if open_payment is not None:  # an increase waits for the card: stop it
        assert response.headers["Location"].endswith(f"/pledges/{pledge_id}/pay")
        checkout.abandon(open_payment.id, "Fuzzed, then stopped.")
    pledge = db.session.get(Pledge, pledge_id)
    db.session.refresh(pledge)
    assert pledge.status is PledgeStatus.HELD and pledge.tier.minimum_amount <= pledge.amount
    assert books.check() == []


CSRF_VARIANTS = [
    [("csrf_token", TOKEN)],
    [],
    [("csrf_token", "")],
    [("csrf_token", "forged")],
    [("csrf_token", "forged"), ("csrf_token", TOKEN)],
    [("csrf_token", TOKEN), ("csrf_token", "forged")],
    [("csrf_token", TOKEN + "x")],
    [("csrf_token", "\x00")],
]


@fuzz(20)
@given(
    csrf=st.sampled_from(CSRF_VARIANTS),
    extra=st.lists(st.tuples(st.sampled_from(["reason", "amount", "x"]), values()), max_size=3),
)
def test_pledge_cancel_form(app, held, csrf, extra):
    _first_pledge, project_id, browser, stripe_fake = held
    current = db.session.scalar(
        select(Pledge.id).where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.HELD)
    )
    if current is None:  # the last example cancelled it: back the project again
        pledge, _ = pay_through_pages(browser, stripe_fake, db.session.get(Project, project_id))
        current = pledge.id
    url = f"/pledges/{current}/cancel"
    token = csrf_of(browser.client, url)
    before = snapshot()
    response = post(browser.client, url, [*csrf, *extra], token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    assert db.session.get(Pledge, current).status.value in ("refunding", "refunded")
    assert books.check() == []


# ---- payouts ---------------------------------------------------------------------------------


@fuzz(30)
@given(pairs=bodies({"country": "US", "csrf_token": TOKEN}))
def test_payouts_connect_form(app, creator, stripe_fake, pairs):
    owner, client, token = creator
    before = snapshot()
    response = post(client, "/payouts/account/connect", pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    assert response.headers["Location"].startswith(stripe_fake.url)  # onboarding at "Stripe"
    accounts = db.session.scalars(select(ConnectedAccount)).all()
    assert [a.user_id for a in accounts] == [owner.id]
    if not before["connected_accounts"]:  # the account is made now, in the country sent
        assert first(pairs, "country") in COUNTRIES


# ---- number fields, one at a time ----------------------------------------------------------

NUMBER_CASES = [
    ("project", "goal"),
    ("project", "duration_days"),
    ("project", "category_id"),
    ("tier", "minimum"),
    ("tier", "quantity_limit"),
    ("tier", "destinations-0-fee"),
    ("pledge", "amount"),
    ("pledge", "tier_id"),
]


@pytest.fixture
def number_forms(app, stripe_fake):
    """The three forms with numbers, each valid as it stands: (client, token, url, body)."""
    owner = gen_user("creator@example.com", "Cora")
    draft = gen_project(owner, "draft", tiers=1)
    live = gen_project(owner, "live", title="Live", tiers=1)
    gen_tier(live, title="Lamp", minimum=2000, quantity_limit=3, shipping_fee=500)
    db.session.commit()
    gen_user("bea@example.com", "Bea")
    creator, backer = logged_in(app, owner.email), logged_in(app, "bea@example.com")
    token, backer_token = csrf_of(creator, "/projects/new"), csrf_of(backer, "/")
    return {
        "project": (creator, token, f"/projects/{draft.id}/edit", PROJECT),
        "tier": (creator, token, f"/projects/{draft.id}/tiers/new", TIER),
        "pledge": (backer, backer_token, f"/projects/{live.id}/back", pledge_body(live.id, 1)),
    }


@pytest.mark.parametrize(("form", "name"), NUMBER_CASES, ids=[n for _f, n in NUMBER_CASES])
@fuzz(25)
@given(value=numbers())
def test_number_fields(app, number_forms, form, name, value):
    """Only one field changes, to a number as typed: accepted within its rules, or refused."""
    client, token, url, base = number_forms[form]
    pairs = [(k, value if k == name else v) for k, v in base.items()]
    before = snapshot()
    response = post(client, url, pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    if form == "pledge":
        (pledge,) = db.session.scalars(select(Pledge).where(Pledge.status == PledgeStatus.PENDING))
        assert pledge.tier.minimum_amount <= pledge.amount <= 1_000_000 * 100
        checkout.abandon(pledge.payments[0].id, "Fuzzed, then stopped.")
        return
    db.session.rollback()
    for project in db.session.scalars(select(Project)):
        assert_project_within_rules(project, None)
    for tier in db.session.scalars(select(RewardTier)):
        assert 0 < tier.minimum_amount <= money.max_minor("USD")
        assert tier.quantity_limit is None or 1 <= tier.quantity_limit <= 1_000_000
        assert_shipping_within_rules(tier)


# ---- query strings -------------------------------------------------------------------------


@fuzz(60)
@given(
    params=st.lists(
        st.tuples(st.sampled_from(["q", "category", "sort", "page"]), values()), max_size=4
    )
)
def test_discover_query(app, params):
    client = app.test_client()
    response = client.get("/discover", query_string=MultiDict(params))
    event(f"answered {response.status_code}")
    assert response.status_code in (200, 400)  # 400: a NUL character


# ---- the Stripe webhook ----------------------------------------------------------------------


def sign(app, body: bytes, timestamp: int | None = None) -> str:
    ts = timestamp or int(time.time())
    secret = app.config["STRIPE_WEBHOOK_SECRET"]
    signature = stripe.WebhookSignature._compute_signature(f"{ts}.{body.decode()}", secret)
    return f"t={ts},v1={signature}"


header_text = st.text(st.characters(max_codepoint=255, exclude_characters="\r\n\x00"), max_size=200)
signatures = st.one_of(
    st.none(),
    header_text,
    st.builds(lambda t, v: f"t={t},v1={v}", st.integers(), st.text("0123456789abcdef")),
    st.builds(lambda t, v: f"t={t},v0={v}", st.integers(0, 2**40), header_text),
    st.just("t=,v1="),
    st.just("t=1,v1=" + "0" * 64),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
raw_bodies = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=500).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b""),
    st.just(b"\xff\xfe\x00"),
)


@fuzz(100)
@given(
    body=raw_bodies,
    signature=signatures,
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ]
    ),
    accept_json=st.booleans(),
    extra=st.dictionaries(
        st.sampled_from(["X-Forwarded-For", "User-Agent", "Stripe-Account"]),
        header_text,
        max_size=2,
    ),
)
def test_webhook_refuses_unsigned_bodies(app, body, signature, content_type, accept_json, extra):
    client = app.test_client()
    headers = {**extra}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    if accept_json:
        headers["Accept"] = "application/json"
    before = snapshot()
    response = client.post("/stripe/webhook", data=body, headers=headers, content_type=content_type)
    event(f"answered {response.status_code}")
    assert response.status_code == 400
    if accept_json:
        assert response.is_json and response.json["error"] == "Bad request"
    assert snapshot() == before


ids = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), min_size=1, max_size=40)
TYPES = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "account.updated",
    "customer.created",
]
objects = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "object",
            "payment_intent",
            "charge",
            "latest_charge",
            "status",
            "details_submitted",
            "charges_enabled",
        ]
    ),
    ids,
    max_size=5,
)
events = st.fixed_dictionaries(
    {
        "id": ids,
        "type": st.one_of(st.sampled_from(TYPES), ids),
        "data": st.fixed_dictionaries({"object": objects}),
    },
    optional={"object": st.just("event"), "created": st.integers(), "livemode": st.booleans()},
)
broken_events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(ids, st.integers(), st.none(), json_values),
        "type": st.one_of(st.sampled_from(TYPES), st.integers(), st.none(), json_values),
        "data": st.one_of(
            st.fixed_dictionaries({}, optional={"object": st.one_of(objects, json_values)}),
            json_values,
        ),
    },
)
signed_bodies = st.one_of(events, broken_events, json_values)


def is_event(value) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("id"), str)
        and isinstance(value.get("type"), str)
        and isinstance(value.get("data"), dict)
        and isinstance(value["data"].get("object"), dict)
    )


@fuzz(100)
@given(payload=signed_bodies)
def test_webhook_signed_bodies(app, payload):
    """Correctly signed: not an event is 400; an event nobody waits for is booked once."""
    client = app.test_client()
    body = json.dumps(payload).encode()
    headers = {"Stripe-Signature": sign(app, body), "Content-Type": "application/json"}
    before = snapshot()
    response = client.post("/stripe/webhook", data=body, headers=headers)
    event(f"answered {response.status_code}")
    if not is_event(payload):
        assert response.status_code == 400
        assert snapshot() == before
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["received"] is True
    again = client.post("/stripe/webhook", data=body, headers=headers)
    assert again.json["result"] == "duplicate"
    assert db.session.get(StripeEvent, payload["id"]) is not None
    db.session.execute(delete(StripeEvent))
    db.session.commit()
    assert snapshot() == before


def test_webhook_too_large_a_body_is_413(app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    body = b"{" + b" " * 2048 + b"}"
    response = app.test_client().post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": sign(app, body)},
        content_type="application/json",
    )
    assert response.status_code == 413


# ---- settings -------------------------------------------------------------------------------

PROFILE = {
    "display_name": "Ada Lovelace",
    "bio": "I build lamps.",
    "location": "London",
    "website": "https://ada.example.org/",
    "locale": "en",
    "timezone": "Europe/London",
    "remove_avatar": "",
    "csrf_token": TOKEN,
}
ZONES = {c.value for c in timezone_choices()}


@pytest.fixture
def ada(app):
    user = gen_user()
    client = logged_in(app, "ada@example.com")
    return client, csrf_of(client, "/settings/profile"), user.id


@fuzz(60)
@given(pairs=bodies(PROFILE))
def test_profile(app, ada, pairs):
    client, token, user_id = ada
    original = row_of(User, user_id)
    before = snapshot()
    response = post(client, "/settings/profile", pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert 2 <= len(user.display_name) <= 80 and user.display_name == user.display_name.strip()
    assert len(user.bio) <= 500 and len(user.location) <= 80
    assert user.website == "" or user.website.split("://")[0].lower() in ("http", "https")
    assert user.locale in ("en", "zh_Hans_CN") and user.timezone in ZONES
    assert not any(ord(c) < 32 for c in user.display_name + user.location)
    restore(User, original)
    db.session.commit()


# ---- updates --------------------------------------------------------------------------------

UPDATE = {"title": "Shipping news", "body": "Boxes.", "audience": "public", "csrf_token": TOKEN}


@pytest.fixture
def published(app, creator):
    from app.updates import services as updates

    owner, client, token = creator
    project = gen_project(owner, "live")
    updates.publish(project, owner.id, "First", "Body.", True)
    db.session.commit()
    return client, token, project.id


@pytest.mark.parametrize("page", ["new", "edit", "remove"])
@fuzz(30)
@given(pairs=bodies({**UPDATE, "reason": "Wrong date."}, extra=("number", "author_id")))
def test_update_forms(app, no_rate_limits, published, page, pairs):
    from app.updates.models import Update

    client, token, project_id = published
    url = f"/projects/{project_id}/updates/new"
    if page != "new":
        url = f"/projects/{project_id}/updates/1/{page}"
    (first_update,) = db.session.scalars(select(Update).where(Update.number == 1))
    was, before = row_of(Update, first_update.id), snapshot()
    response = post(client, url, pairs, token)
    check_answer(response)
    if response.status_code != 302:
        assert snapshot() == before
        return
    db.session.expire_all()
    for written in db.session.scalars(select(Update)):
        assert written.project_id == project_id and written.number in (1, 2)
        assert 1 <= len(written.title) <= 120 and 1 <= len(written.body) <= 50_000
        assert len(written.delete_reason) <= 2000
    db.session.execute(delete(Update).where(Update.number == 2))
    restore(Update, was)
    db.session.execute(delete(Outbox))
    db.session.commit()
    assert snapshot() == before
