"""Shipping by destination: the backer's country picks the tier's fee, which is charged with
the pledge, refunded with it, and a country the tier does not ship to is refused unpaid."""

import csv
import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, Pledge
from tests.helpers import Browser, gen_tier, set_shipping
from tests.helpers.pledging import (
    assert_books_balance,
    latest_pledge,
    new_backer,
    pay_through_pages,
    start,
)
from tests.helpers.settling import settle

# Ships from the US: $8 at home, $14 to Europe, $20 elsewhere, but Japan has its own $5.
RULES = {"domestic": 800, "europe": 1400, "world": 2000, "JP": 500}


@pytest.fixture
def lamp(project):
    project.country = "US"
    tier = gen_tier(project, title="Lamp", minimum=3000, shipping=RULES)
    db.session.commit()
    return tier


def charged(stripe_fake) -> list[int]:
    intents = stripe_fake.requests("/v1/payment_intents", "POST")
    return [int(r["params"]["amount"]) for r in intents if "amount" in r["params"]]


def refunded(stripe_fake) -> list[int]:
    return [int(r["params"]["amount"]) for r in stripe_fake.requests("/v1/refunds", "POST")]


@pytest.mark.parametrize(
    ("country", "fee"),
    [("US", 800), ("FR", 1400), ("GB", 1400), ("BR", 2000), ("JP", 500)],
    ids=["domestic", "europe", "europe-not-eu", "world", "country-beats-world"],
)
def test_a_pledge_pays_its_countrys_fee(app, backer, project, lamp, stripe_fake, country, fee):
    pledge, _ = pay_through_pages(
        backer, stripe_fake, project, tier=lamp, amount="30", country=country
    )
    pledge = latest_pledge()
    assert (pledge.status, pledge.shipping_country, pledge.shipping_fee) == (
        PledgeStatus.HELD, country, fee,
    )  # fmt: skip
    assert pledge.total == 3000 + fee
    assert charged(stripe_fake) == [3000 + fee]
    page = backer.client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert f"${fee / 100:.2f} to" in page
    assert_books_balance()


def test_the_pages_show_each_destinations_fee(app, backer, project, lamp):
    page = backer.client.get(f"/projects/{project.id}", follow_redirects=True).get_data(
        as_text=True
    )
    assert "United States $8.00" in page  # domestic: the project's country, by name
    assert "Europe $14.00" in page and "Rest of the world $20.00" in page
    assert "Japan $5.00" in page
    assert "Digital reward: nothing ships." in page  # the $10 thank-you
    page = backer.client.get(f"/projects/{project.id}/back").get_data(as_text=True)
    assert "Ships to: United States $8.00 · Europe $14.00" in page


def test_a_country_the_tier_does_not_ship_to_is_refused_before_any_payment(
    app, backer, project, stripe_fake
):
    project.country = "US"
    tier = gen_tier(project, title="Lamp", minimum=3000, shipping={"domestic": 800, "europe": 1400})
    db.session.commit()
    response = start(backer, project, tier=tier, amount="30", country="BR")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This reward does not ship to Brazil. Choose another country or reward." in page
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert charged(stripe_fake) == []
    # The country list holds only where the project's rewards ship.
    assert 'value="FR"' in page and 'value="US"' in page and 'value="BR"' not in page


def test_a_digital_reward_charges_no_shipping(app, backer, project, lamp, stripe_fake):
    digital = project.tiers[0]
    assert not digital.ships
    pay_through_pages(backer, stripe_fake, project, tier=digital, amount="25", country="FR")
    pledge = latest_pledge()
    assert (pledge.shipping_fee, pledge.shipping_country) == (0, None)
    assert charged(stripe_fake) == [2500]


def test_cancelling_refunds_the_fee_too(app, backer, project, lamp, stripe_fake):
    pledge, _ = pay_through_pages(
        backer, stripe_fake, project, tier=lamp, amount="30", country="FR"
    )
    backer.submit(f"/pledges/{pledge.id}/cancel", follow_redirects=True)
    assert latest_pledge().status is PledgeStatus.REFUNDED
    assert refunded(stripe_fake) == [4400]
    assert_books_balance()


def test_a_new_country_recomputes_the_fee(app, backer, project, lamp, stripe_fake):
    pledge, _ = pay_through_pages(
        backer, stripe_fake, project, tier=lamp, amount="30", country="US"
    )
    fields = {"tier_id": str(lamp.id), "amount": "30", "shipping_country": "JP"}
    response = backer.submit(f"/pledges/{pledge.id}/change", fields)
    assert response.status_code == 302
    pledge = latest_pledge()
    assert (pledge.shipping_country, pledge.shipping_fee, pledge.total) == ("JP", 500, 3500)
    assert refunded(stripe_fake) == [300]  # $8 at home, $5 to Japan
    assert_books_balance()


def test_new_rules_price_new_pledges_and_a_pledge_keeps_the_fee_it_paid(
    app, backer, project, lamp, stripe_fake
):
    pledge, _ = pay_through_pages(
        backer, stripe_fake, project, tier=lamp, amount="30", country="FR"
    )
    set_shipping(lamp, {"world": 3000})
    db.session.commit()
    # More pledged, same reward and country: the $14 it paid stands.
    fields = {"tier_id": str(lamp.id), "amount": "40", "shipping_country": "FR"}
    assert backer.submit(f"/pledges/{pledge.id}/change", fields).status_code == 302
    assert latest_pledge().shipping_fee == 1400
    other = new_backer(app, "cy@example.com", "Cy")
    pay_through_pages(other, stripe_fake, project, tier=lamp, amount="30", country="FR")
    assert latest_pledge().shipping_fee == 3000
    assert charged(stripe_fake)[-1] == 6000


def test_a_failed_project_refunds_each_fee_and_its_statement_shows_them(
    app, backer, creator, project, lamp, stripe_fake, clock, runner
):
    pay_through_pages(backer, stripe_fake, project, tier=lamp, amount="30", country="FR")
    other = new_backer(app, "cy@example.com", "Cy")
    pay_through_pages(other, stripe_fake, project, tier=lamp, amount="30", country="JP")
    clock.jump_past(project.deadline)
    assert "failed, refunds planned 2, made 2" in settle(runner)  # $79 of $1,000
    assert sorted(refunded(stripe_fake)) == [3500, 4400]
    assert_books_balance()
    browser = Browser(app.test_client())
    browser.login(creator.email)
    page = browser.client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert "$14.00 to FR" in page and "$5.00 to JP" in page
    csv_text = browser.client.get(f"/projects/{project.id}/statement/backers.csv").get_data(
        as_text=True
    )
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert sorted((r["shipping_fee"], r["shipping_country"], r["total"]) for r in rows) == [
        ("14.00", "FR", "44.00"),
        ("5.00", "JP", "35.00"),
    ]
