"""A backer pledges by card in a real browser: the pay page with (fake) Stripe.js, end to end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from tests.helpers import project_path
from tests.helpers.browser import (
    assert_held,
    live_project_with_cover,
    login,
    needs_chromium,
    pledge_status,
    start_pledge,
)

pytestmark = [pytest.mark.browser, needs_chromium]

VISA = "4242424242424242"
DECLINED = "4000000000000341"  # attaches, then fails to charge
THREE_D_SECURE = "4000002500003155"
SCREENSHOT = "/tmp/pay-page.png"  # noqa: S108 - a fixed place for a person to look


@pytest.fixture
def project(app):
    """Live, USD, goal $1,000; tiers "Tier 1" ($10) and "Tier 2" ($20); a real cover image."""
    yield from live_project_with_cover("USD", 100_000, (40, 60, 110))


def fill_card(page: Page, number: str) -> None:
    """The fake card element's five inputs, as a person types them."""
    for placeholder, value in [
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ]:
        page.get_by_placeholder(placeholder, exact=True).fill(value)


def test_card_pledge_is_held_in_escrow(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project, "Tier 1", "25")
    expect(page.get_by_role("heading", name="Pay $25.00")).to_be_visible()
    assert pledge_status(pledge_id) == "pending"
    fill_card(page, VISA)
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("button", name="Pledge $25.00").click()

    assert_held(page, pledge_id)
    expect(page.get_by_test_id("in-escrow")).to_have_text("$25.00")
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (2500, 1)
    assert project.tiers[0].claimed == 1
    assert ledger.balance(ledger.escrow(project.id)) == 2500
    assert books.check() == []

    page.goto(project_path(project))
    expect(page.get_by_test_id("pledged")).to_have_text("$25.00")
    expect(page.get_by_test_id("backers")).to_have_text("1")
    assert problems == []


def test_declined_card_then_another_card(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project, "Tier 2", "40")
    pay_url = page.url
    fill_card(page, DECLINED)
    button = page.get_by_role("button", name="Pledge $40.00")
    button.click()

    expect(page.locator("#card-errors")).to_have_text("Your card was declined.")
    expect(button).to_be_enabled()
    assert page.url == pay_url
    assert pledge_status(pledge_id) == "pending"

    page.get_by_placeholder("number", exact=True).fill(VISA)
    button.click()
    assert_held(page, pledge_id)
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (4000, 1)
    assert books.check() == []
    assert problems == []

    # The watcher is not blind: a blocked inline script is reported.
    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = '1'; document.body.append(s); }"
        )
    assert any("CSP violation: script-src" in p for p in problems), problems


def test_three_d_secure_completed(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project)
    fill_card(page, THREE_D_SECURE)
    page.get_by_role("button", name="Pledge $25.00").click()

    dialog = page.get_by_role("dialog", name="3D Secure authentication")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Complete authentication").click()
    assert_held(page, pledge_id)
    assert books.check() == []
    assert problems == []


def test_three_d_secure_failed(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project)
    fill_card(page, THREE_D_SECURE)
    button = page.get_by_role("button", name="Pledge $25.00")
    button.click()

    dialog = page.get_by_role("dialog", name="3D Secure authentication")
    dialog.get_by_role("button", name="Fail authentication").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#card-errors")).to_contain_text("unable to authenticate")
    expect(button).to_be_enabled()
    assert re.search(rf"/pledges/{pledge_id}/pay$", page.url)
    assert pledge_status(pledge_id) == "pending"
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (0, 0)
    assert problems == []
