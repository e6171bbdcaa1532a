"""Once a project is live, tiers with backers are protected; new tiers can still be added."""

from sqlalchemy import func, select

from app.extensions import db
from app.rewards.models import RewardTier
from tests.helpers import gen_project, gen_tier, gen_user, parse_forms, project_path


def live_project_with_backed_tier(claimed=3, limit=None):
    ada = gen_user()
    project = gen_project(ada, "live")
    tier = project.tiers[0]
    tier.claimed = claimed  # as pledges would have done
    tier.quantity_limit = limit
    db.session.commit()
    return project, tier


def tier_form(**overrides):
    fields = {
        "title": "Tier 1",
        "description": "A warm thank-you.",
        "minimum": "10.00",
        "quantity_limit": "",
        "estimated_delivery": "2030-01",
    }
    fields.update(overrides)
    return fields


def test_backed_tier_cannot_be_deleted(browser, client):
    project, tier = live_project_with_backed_tier()
    browser.login()
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert f"/tiers/{tier.id}/delete" not in page  # no button to press...
    token = parse_forms(page)[-1]["fields"]["csrf_token"]
    response = client.post(
        f"/tiers/{tier.id}/delete", data={"csrf_token": token}, follow_redirects=True
    )  # ...and a crafted POST is refused
    assert "This tier has backers and cannot be deleted; close it instead." in response.get_data(
        as_text=True
    )
    assert db.session.get(RewardTier, tier.id) is not None


def test_backed_tier_minimum_cannot_be_raised_but_can_be_lowered(browser):
    _project, tier = live_project_with_backed_tier()
    browser.login()
    response = browser.submit(
        f"/tiers/{tier.id}/edit", tier_form(minimum="10.01"), follow_redirects=True
    )
    assert "This tier has backers: its minimum cannot be raised." in response.get_data(as_text=True)
    db.session.refresh(tier)
    assert tier.minimum_amount == 1000
    browser.submit(f"/tiers/{tier.id}/edit", tier_form(minimum="8", title="Cheaper now"))
    db.session.refresh(tier)
    assert (tier.minimum_amount, tier.title) == (800, "Cheaper now")


def test_backed_tier_can_be_limited_but_not_below_its_backers(browser):
    _project, tier = live_project_with_backed_tier(claimed=3)
    browser.login()
    response = browser.submit(
        f"/tiers/{tier.id}/edit", tier_form(quantity_limit="2"), follow_redirects=True
    )
    assert "already has 3 backers: the limit cannot be lower" in response.get_data(as_text=True)
    browser.submit(f"/tiers/{tier.id}/edit", tier_form(quantity_limit="3"))
    db.session.refresh(tier)
    assert tier.quantity_limit == 3 and tier.sold_out


def test_tier_can_be_closed_and_reopened(browser, client):
    project, tier = live_project_with_backed_tier()
    browser.login()
    browser.submit(f"/projects/{project.id}/edit", action=f"/tiers/{tier.id}/close")
    db.session.refresh(tier)
    assert tier.is_closed
    assert "Closed" in client.get(project_path(project)).get_data(as_text=True)
    browser.submit(f"/projects/{project.id}/edit", action=f"/tiers/{tier.id}/close")
    db.session.refresh(tier)
    assert not tier.is_closed


def test_new_tiers_can_be_added_while_live(browser):
    project, _ = live_project_with_backed_tier()
    browser.login()
    browser.submit(
        f"/projects/{project.id}/tiers/new", tier_form(title="Stretch reward", minimum="99")
    )
    count = db.session.scalar(
        select(func.count()).select_from(RewardTier).where(RewardTier.project_id == project.id)
    )
    assert count == 2


def test_unbacked_tier_of_a_live_project_can_be_deleted_but_not_the_last(browser, client):
    project, backed = live_project_with_backed_tier(claimed=0)
    extra_id = gen_tier(project, title="Extra").id
    db.session.commit()
    browser.login()
    browser.submit(f"/projects/{project.id}/edit", action=f"/tiers/{extra_id}/delete")
    assert db.session.get(RewardTier, extra_id) is None
    response = browser.submit(
        f"/projects/{project.id}/edit", action=f"/tiers/{backed.id}/delete", follow_redirects=True
    )
    assert "A live project needs at least one reward tier." in response.get_data(as_text=True)
    assert db.session.get(RewardTier, backed.id) is not None


def test_tiers_are_frozen_under_review(browser):
    ada = gen_user()
    project = gen_project(ada, "submitted")
    tier = project.tiers[0]
    browser.login()
    response = browser.submit(
        f"/tiers/{tier.id}/edit", tier_form(minimum="8"), follow_redirects=True
    )
    assert "Reward tiers cannot change while the project is submitted." in response.get_data(
        as_text=True
    )
    db.session.refresh(tier)
    assert tier.minimum_amount == 1000


def test_sold_out_and_remaining_show_on_the_page(client):
    project, _tier = live_project_with_backed_tier(claimed=48, limit=50)
    sold = gen_tier(project, title="Collector", minimum=5000, quantity_limit=5)
    sold.claimed = 5
    db.session.commit()
    page = client.get(project_path(project)).get_data(as_text=True)
    assert "2 left of 50" in page
    assert "Sold out" in page
