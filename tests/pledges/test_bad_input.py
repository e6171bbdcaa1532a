"""Bad pledges get a clear message and charge nothing."""

import pytest
from sqlalchemy import func, select

from app.accounts.models import Role
from app.extensions import db
from app.pledges.models import Payment, Pledge
from tests.helpers import Browser, gen_project, gen_user, parse_forms, set_shipping
from tests.helpers.pledging import pay_through_pages, start


def nothing_charged(stripe_fake):
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert [r for r in stripe_fake.requests("/v1/payment_intents", "POST")] == []


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("5", "This reward needs a pledge of at least $10.00."),
        ("abc", "Enter the amount as a number"),
        ("-20", "The amount must be more than zero."),
        ("0", "The amount must be more than zero."),
        ("10.001", "USD amounts have at most 2 decimals."),
        ("1e12", "The amount can be at most"),
        ("", "This field is required."),
    ],
)
def test_bad_amounts(app, backer, project, stripe_fake, amount, message):
    response = start(backer, project, amount=amount)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    nothing_charged(stripe_fake)


def test_absurd_but_parseable_amount_is_refused(app, backer, project, stripe_fake):
    response = start(backer, project, amount="5000000")
    assert response.status_code == 200
    assert "A pledge can be at most $1,000,000.00." in response.get_data(as_text=True)
    nothing_charged(stripe_fake)


def test_tier_of_another_project(app, backer, project, creator, stripe_fake):
    other = gen_project(creator, "live", title="Other")
    response = backer.submit(
        f"/projects/{project.id}/back", {"tier_id": str(other.tiers[0].id), "amount": "50"}
    )
    assert response.status_code == 200
    assert "Choose one of this project&#39;s rewards." in response.get_data(as_text=True)
    nothing_charged(stripe_fake)


def test_shipping_reward_needs_a_country(app, backer, project, stripe_fake):
    set_shipping(project.tiers[0], {"world": 500})
    db.session.commit()
    response = start(backer, project, amount="25")
    assert "This reward ships: choose the country to ship it to." in response.get_data(as_text=True)
    nothing_charged(stripe_fake)
    response = start(backer, project, amount="25", country="XX")
    assert "Choose a country from the list." in response.get_data(as_text=True)
    start(backer, project, amount="25", country="FR")
    pledge = db.session.scalar(select(Pledge))
    assert (pledge.shipping_fee, pledge.shipping_country, pledge.total) == (500, "FR", 3000)


def test_own_project_cannot_be_backed(app, creator, project, stripe_fake):
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    response = browser.client.get(f"/projects/{project.id}/back", follow_redirects=True)
    assert "You cannot back your own project." in response.get_data(as_text=True)
    nothing_charged(stripe_fake)


@pytest.mark.parametrize("status", ["draft", "submitted", "cancelled", "suspended"])
def test_only_live_projects_take_pledges(app, backer, creator, stripe_fake, status):
    project = gen_project(creator, status, title=f"P {status}")
    response = backer.client.get(f"/projects/{project.id}/back", follow_redirects=True)
    page = response.get_data(as_text=True)
    if status in ("draft", "submitted"):
        assert response.status_code == 404
    else:
        assert "This project is not taking pledges." in page
    nothing_charged(stripe_fake)


def test_double_submit_makes_one_pledge_and_one_charge(app, backer, project, stripe_fake):
    page = backer.client.get(f"/projects/{project.id}/back").get_data(as_text=True)
    token = parse_forms(page)[-1]["fields"]["csrf_token"]
    data = {"csrf_token": token, "tier_id": str(project.tiers[0].id), "amount": "25"}
    first = backer.client.post(f"/projects/{project.id}/back", data=data)
    second = backer.client.post(f"/projects/{project.id}/back", data=data)
    assert first.status_code == 302, first.get_data(as_text=True)[-3000:]
    assert second.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
    creates = [
        r
        for r in stripe_fake.requests("/v1/payment_intents", "POST")
        if r["path"] == "/v1/payment_intents"
    ]
    assert len(creates) == 1


def test_anonymous_must_log_in(client, project):
    response = client.get(f"/projects/{project.id}/back")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_other_people_cannot_see_or_touch_a_pledge(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project)
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    for email in ("creator@example.com", "mo@example.com"):
        other = Browser(app.test_client())
        other.login(email)
        for url in (
            f"/pledges/{pledge.id}",
            f"/pledges/{pledge.id}/change",
            f"/pledges/{pledge.id}/cancel",
            f"/pledges/{pledge.id}/pay",
        ):
            assert other.client.get(url).status_code == 404, (email, url)


def test_payment_provider_down_charges_nothing(app, backer, project, stripe_fake):
    stripe_fake.fault("/v1/payment_intents", status=500)
    response = start(backer, project, amount="25")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "We could not reach the payment provider, so nothing was charged." in page
    pledge = db.session.scalar(select(Pledge))
    assert pledge.status.value == "failed"
    db.session.refresh(project)
    assert project.tiers[0].claimed == 0
