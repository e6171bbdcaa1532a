"""MINIMUM_PLEDGE: no reward tier asks so little that Stripe's fixed fee on the payment
would be more than the platform's fee (30¢ against 5% of $6)."""

import pytest
from sqlalchemy import select

from app.config import parse_env_value
from app.extensions import db
from app.rewards.models import RewardTier
from tests.helpers import gen_project, gen_tier, gen_user

REFUSED = (
    "A reward&#39;s minimum pledge is at least {amount}: below that, the card network&#39;s "
    "fixed fee on the payment would be more than the platform&#39;s fee."
)


def tier_form(minimum: str) -> dict:
    return {
        "title": "Thank you",
        "description": "Your name in the credits.",
        "minimum": minimum,
        "quantity_limit": "",
        "estimated_delivery": "2030-01",
    }


@pytest.mark.parametrize(
    ("currency", "too_little", "enough", "floor"),
    [("USD", "5.99", "6", "$6.00"), ("GBP", "3", "4.00", "£4.00"), ("JPY", "99", "100", "¥100")],
)
def test_a_tier_below_the_currencys_floor_is_refused_with_the_reason(
    browser, currency, too_little, enough, floor
):
    project = gen_project(gen_user(), "draft", currency=currency)
    browser.login()
    page = browser.client.get(f"/projects/{project.id}/tiers/new").get_data(as_text=True)
    assert f"At least {floor}." in page  # said before the creator types
    response = browser.submit(f"/projects/{project.id}/tiers/new", tier_form(too_little))
    assert response.status_code == 200
    assert REFUSED.format(amount=floor) in response.get_data(as_text=True)
    titles = db.session.scalars(select(RewardTier.title).where(RewardTier.project_id == project.id))
    assert "Thank you" not in list(titles)
    response = browser.submit(f"/projects/{project.id}/tiers/new", tier_form(enough))
    assert response.status_code == 302
    assert db.session.scalar(
        select(RewardTier.minimum_amount).where(
            RewardTier.project_id == project.id, RewardTier.title == "Thank you"
        )
    ) == int(float(enough) * (1 if currency == "JPY" else 100))


def test_a_tier_made_before_the_floor_keeps_its_minimum_but_goes_no_lower(browser):
    project = gen_project(gen_user(), "draft")
    old = gen_tier(project, title="Old thanks", minimum=500)
    db.session.commit()
    browser.login()
    response = browser.submit(f"/tiers/{old.id}/edit", tier_form("5"))
    assert response.status_code == 302
    db.session.refresh(old)
    assert (old.title, old.minimum_amount) == ("Thank you", 500)
    response = browser.submit(f"/tiers/{old.id}/edit", tier_form("4.99"))
    assert REFUSED.format(amount="$5.00") in response.get_data(as_text=True)


def test_the_floor_is_a_setting_read_from_the_environment():
    floors = parse_env_value("MINIMUM_PLEDGE", "usd=1.00, JPY=50", {"USD": 600, "EUR": 500})
    assert floors == {"USD": 100, "EUR": 500, "JPY": 50}
    with pytest.raises(ValueError, match=r"must read like USD=6\.00,EUR=5\.00"):
        parse_env_value("MINIMUM_PLEDGE", "USD=six", {"USD": 600})
