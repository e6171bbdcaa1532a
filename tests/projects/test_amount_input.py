"""Amounts typed on the real pages are read as meant or refused with a message on the form.

"45,50" on a GBP project used to become £4,550.00 (and the pay page asked for £4,556.00).
Now the pledge, goal and tier forms refuse a comma or point that is ambiguous for the
project's currency and the reader's locale, say what to write, and change nothing: no row,
no call to Stripe.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.pledges.models import Payment, Pledge
from app.projects.models import Project, ProjectEvent
from app.rewards.models import RewardTier
from tests.helpers import STORY, Browser, gen_project, gen_user
from tests.helpers.forms import field_errors

COMMA = "Use a point for decimals (45.50); a comma may only separate thousands, as in 1,250.50."
YEN = "JPY amounts have no decimals: write 1500 or 1,500."


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def logged_in(app, email: str, name: str) -> Browser:
    gen_user(email, name)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


@pytest.fixture
def creator():
    return gen_user("creator@example.com", "Cora")


def back(browser: Browser, project, amount: str):
    fields = {"tier_id": str(project.tiers[0].id), "amount": amount}
    return browser.submit(f"/projects/{project.id}/back", fields)


# ---- the pledge form ----------------------------------------------------------------------


PLEDGE_REFUSED = [
    ("GBP", "45,50", COMMA),  # the reported case
    ("EUR", "45,50", COMMA),
    ("EUR", "1.250,50", COMMA),
    ("USD", "1,2345", COMMA),
    ("CNY", "88,88", COMMA),
    ("GBP", "1 250", "Write the amount without spaces, as in 1250.50 or 1,250.50."),
    ("JPY", "1.500", YEN),
    ("JPY", "15,00", YEN),
]


@pytest.mark.parametrize(
    ("currency", "amount", "message"),
    PLEDGE_REFUSED,
    ids=[f"{c} {a}" for c, a, _ in PLEDGE_REFUSED],
)
def test_ambiguous_pledge_amount_is_refused_on_the_form(
    app, creator, stripe_fake, currency, amount, message
):
    project = gen_project(creator, "live", currency=currency)
    backer = logged_in(app, "bea@example.com", "Bea")
    response = back(backer, project, amount)
    assert response.status_code == 200, response.headers.get("Location")
    page = response.get_data(as_text=True)
    assert field_errors(page, "amount") == [message]
    assert f'value="{html.escape(amount)}"' in page  # what was typed is shown back, to correct
    assert count(Pledge) == 0
    assert count(Payment) == 0
    assert stripe_fake.requests("/v1/") == []


def test_gbp_pledge_written_the_english_way_goes_to_payment_for_that_amount(
    app, creator, stripe_fake
):
    """The counterpart: "45.50" (and "1,045.50") are pledges of £45.50 and £1,045.50."""
    project = gen_project(creator, "live", currency="GBP")
    backer = logged_in(app, "bea@example.com", "Bea")
    response = back(backer, project, "45.50")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    pledge = db.session.scalars(select(Pledge)).one()
    assert (pledge.amount, pledge.currency) == (4550, "GBP")
    intents = stripe_fake.requests("/v1/payment_intents", "POST")
    assert [int(r["params"]["amount"]) for r in intents] == [4550]

    other = logged_in(app, "bob@example.com", "Bob")
    assert back(other, project, "1,045.50").status_code == 302
    assert sorted(p.amount for p in db.session.scalars(select(Pledge))) == [4550, 104_550]


# ---- the project's goal -------------------------------------------------------------------

DRAFT = {
    "title": "Moon Lamp",
    "blurb": "A lamp shaped like the moon.",
    "story": STORY,
    "category_id": "4",
    "currency": "EUR",
    "goal": "5000",
    "duration_days": "30",
    "creator_timezone": "Europe/Paris",
}


def rows() -> dict[str, list[tuple]]:
    tables = (Project.__table__, RewardTier.__table__, ProjectEvent.__table__)
    db.session.expire_all()
    return {
        t.name: [tuple(row) for row in db.session.execute(select(t).order_by(t.c.id))]
        for t in tables
    }


GOAL_REFUSED = [
    ("EUR", "1.000,00", COMMA),
    ("EUR", "1000,50", COMMA),
    ("GBP", "1000,50", COMMA),
    ("USD", "1.000.000", COMMA),
    ("CNY", "10,00", COMMA),
    ("EUR", "1.000", "EUR amounts have at most 2 decimals."),  # never read as €1.00
    ("JPY", "1.000", YEN),  # never read as ¥1
    ("JPY", "1.000.000", YEN),
]


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize(
    ("currency", "goal", "message"), GOAL_REFUSED, ids=[f"{c} {g}" for c, g, _ in GOAL_REFUSED]
)
def test_ambiguous_goal_is_refused_on_the_form(app, creator, page, currency, goal, message):
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    url = "/projects/new" if page == "new" else f"/projects/{gen_project(creator).id}/edit"
    before = rows()
    response = browser.submit(url, {**DRAFT, "currency": currency, "goal": goal})
    assert response.status_code == 200, response.headers.get("Location")
    assert field_errors(response.get_data(as_text=True), "goal") == [message]
    assert rows() == before, "a refused goal changed the database"


@pytest.mark.parametrize(
    ("currency", "goal", "minor"),
    [("EUR", "1,000.00", 100_000), ("GBP", "1,000.50", 100_050), ("JPY", "1,000", 1000)],
)
def test_goal_with_thousands_commas_is_saved_as_written(app, creator, currency, goal, minor):
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    response = browser.submit("/projects/new", {**DRAFT, "currency": currency, "goal": goal})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    project = db.session.scalars(select(Project)).one()
    assert (project.goal_amount, project.currency) == (minor, currency)


# ---- a reward tier's minimum and shipping -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("minimum", "45,50"), ("destinations-0-fee", "7,50"), ("minimum", "1.250,00")],
)
def test_ambiguous_tier_amounts_are_refused_on_the_form(app, creator, field, value):
    project = gen_project(creator, currency="EUR", tiers=0)
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    before = rows()
    fields = {
        "title": "Early bird",
        "description": "One lamp.",
        "minimum": "45",
        "quantity_limit": "",
        "estimated_delivery": "2030-03",
        "ships": "y",
        "destinations-0-destination": "world",
        "destinations-0-fee": "7.50",
        field: value,
    }
    response = browser.submit(f"/projects/{project.id}/tiers/new", fields)
    assert response.status_code == 200, response.headers.get("Location")
    assert field_errors(response.get_data(as_text=True), field) == [COMMA]
    assert rows() == before, "a refused tier changed the database"
