"""A backer of a CNY project pays with Alipay or WeChat Pay in a real browser: the choice on
the pay page, the fake's Alipay page and the fake Stripe.js's WeChat Pay QR dialog, the return
page booking the payment, and a payment not completed leaving the pledge payable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from tests.helpers.browser import (
    assert_held,
    live_project_with_cover,
    login,
    needs_chromium,
    pledge_status,
    start_pledge,
)

pytestmark = [pytest.mark.browser, needs_chromium]

NOT_COMPLETED = "payment was not completed, so nothing was charged."
SHOTS = "/tmp/wallets"  # noqa: S108 - a fixed place for a person to look


@pytest.fixture
def project(app):
    """Live, CNY, goal ¥10,000; tiers "Tier 1" and "Tier 2"; a real cover image."""
    yield from live_project_with_cover("CNY", 1_000_000, (150, 40, 40))


def shot(page: Page, name: str) -> None:
    Path(SHOTS).mkdir(exist_ok=True)
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def choose(page: Page, label: str) -> None:
    page.get_by_role("radio", name=re.compile(rf"^{label}\b")).check()


def test_alipay_authorized_is_held(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project, "Tier 1", "25")
    expect(page.get_by_role("heading", name="Pay CN¥25.00")).to_be_visible()
    group = page.get_by_role("group", name="Pay with")
    expect(group.get_by_role("radio")).to_have_count(3)
    expect(page.get_by_role("radio", name=re.compile(r"^Card\b"))).to_be_checked()
    expect(page.locator("#card-fields")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "cny-pay-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    shot(page, "cny-pay-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    choose(page, "Alipay")
    expect(page.locator("#card-fields")).to_be_hidden()
    page.get_by_role("button", name="Pledge CN¥25.00").click()
    page.wait_for_url(re.compile(rf"^{re.escape(stripe_fake.url)}/alipay/authorize/pi_"))
    expect(page.get_by_role("heading", name="Alipay test payment page")).to_be_visible()
    expect(page.get_by_text("¥25.00 CNY")).to_be_visible()
    shot(page, "fake-alipay-page")
    page.set_viewport_size({"width": 375, "height": 700})
    shot(page, "fake-alipay-page-375")
    page.get_by_role("button", name="Authorize test payment").click()

    assert_held(page, pledge_id)
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (2500, 1)
    assert ledger.balance(ledger.escrow(project.id)) == 2500
    assert books.check() == []
    assert problems == []


def test_alipay_failed_leaves_the_pledge_payable(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project, "Tier 1", "30")
    choose(page, "Alipay")
    page.get_by_role("button", name="Pledge CN¥30.00").click()
    page.get_by_role("button", name="Fail test payment").click()

    page.wait_for_url(re.compile(rf"/pledges/{pledge_id}/pay$"))
    expect(page.get_by_test_id("last-error")).to_contain_text(f"The Alipay {NOT_COMPLETED}")
    shot(page, "cny-pay-after-alipay-failed")
    assert pledge_status(pledge_id) == "pending"
    db.session.refresh(project)
    assert project.pledged_amount == 0
    assert problems == []


def test_wechat_pay_authorized_is_held(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project, "Tier 2", "40")
    choose(page, "WeChat Pay")
    page.get_by_role("button", name="Pledge CN¥40.00").click()

    dialog = page.get_by_role("dialog", name="Pay with WeChat Pay")
    expect(dialog).to_be_visible()
    qr = dialog.get_by_role("img", name="WeChat Pay QR code (test mode)")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # loaded under the CSP
    shot(page, "wechat-pay-dialog")
    page.set_viewport_size({"width": 375, "height": 700})
    shot(page, "wechat-pay-dialog-375")
    dialog.get_by_role("button", name="Authorize test payment").click()

    assert_held(page, pledge_id)
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (4000, 1)
    assert books.check() == []
    assert problems == []


def test_wechat_pay_failed_then_card(app, stripe_fake, project, backer, page, problems):
    login(page, backer)
    pledge_id = start_pledge(page, project, "Tier 1", "25")
    choose(page, "WeChat Pay")
    button = page.get_by_role("button", name="Pledge CN¥25.00")
    button.click()
    dialog = page.get_by_role("dialog", name="Pay with WeChat Pay")
    dialog.get_by_role("button", name="Fail test payment").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#card-errors")).to_have_text(
        f"The WeChat Pay {NOT_COMPLETED} You can try again, or choose another way to pay."
    )
    expect(button).to_be_enabled()
    assert pledge_status(pledge_id) == "pending"

    choose(page, "Card")
    for placeholder, value in [
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "100000"),
    ]:
        page.get_by_placeholder(placeholder, exact=True).fill(value)
    button.click()
    assert_held(page, pledge_id)
    assert problems == []


def test_the_wechat_pay_hosted_page(app, stripe_fake, project, backer, page):
    """The hosted_instructions_url page, as a person would open it (screenshot only)."""
    login(page, backer)
    start_pledge(page, project, "Tier 1", "25")
    choose(page, "WeChat Pay")
    page.get_by_role("button", name="Pledge CN¥25.00").click()
    expect(page.get_by_role("dialog", name="Pay with WeChat Pay")).to_be_visible()
    (intent,) = [
        i
        for i in stripe_fake.objects("payment_intents")
        if (i.get("next_action") or {}).get("type") == "wechat_pay_display_qr_code"
    ]
    page.goto(intent["next_action"]["wechat_pay_display_qr_code"]["hosted_instructions_url"])
    expect(page.get_by_role("heading", name="WeChat Pay test payment page")).to_be_visible()
    shot(page, "fake-wechat-pay-page")
