"""Signed-in navigation, the sessions page and "You backed this" in a real browser (issue 13.5,
13.9): a second browser is logged out by ending its session from the first; on a phone the
navigation folds into its menu. Screenshots at both widths in both languages are left in
instance/screenshots (``nav-375-en.png``, ``sessions-1280-zh_Hans_CN.png``,
``backed-375-en.png``, ...) for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import Browser
from tests.helpers.browser import (
    DESKTOP,
    PHONE,
    live_project_with_cover,
    login,
    needs_chromium,
    screenshot,
)
from tests.helpers.pledging import pay_through_pages

pytestmark = [pytest.mark.browser, needs_chromium]

LANGUAGES = {"en": "en-US", "zh_Hans_CN": "zh-CN"}
NAV = {
    "en": ("My pledges", "My projects", "Settings", "Log out"),
    "zh_Hans_CN": None,  # the same links, in Chinese: checked by their addresses
}


@pytest.fixture
def project(app):
    yield from live_project_with_cover("USD", 100_000, (40, 60, 110))


def test_ending_a_session_from_one_browser_logs_out_the_other(chromium, live_server, backer):
    laptop = chromium.new_context(base_url=live_server, viewport=DESKTOP)
    phone = chromium.new_context(base_url=live_server, viewport=PHONE, is_mobile=True)
    try:
        here, there = laptop.new_page(), phone.new_page()
        login(here, backer)
        login(there, backer)
        here.goto("/settings/sessions")
        rows = here.get_by_test_id("session")
        expect(rows).to_have_count(2)
        expect(here.get_by_test_id("this-device")).to_have_count(1)
        screenshot(here, "sessions-two-devices-1280-en")
        here.get_by_role("button", name="Log out of all other devices").click()
        expect(here.get_by_text("1 other device is logged out.")).to_be_visible()
        expect(here.get_by_test_id("only-this-device")).to_be_visible()
        there.goto("/my/pledges")
        expect(there).to_have_url(f"{live_server}/login?next=%2Fmy%2Fpledges")
        here.goto("/my/pledges")
        expect(here.get_by_role("heading", level=1)).to_be_visible()
        expect(here).to_have_url(f"{live_server}/my/pledges")
    finally:
        laptop.close()
        phone.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("width", "size"), [("1280", DESKTOP), ("375", PHONE)])
def test_signed_in_navigation_and_you_backed_this(
    app, chromium, live_server, project, backer, stripe_fake, language, width, size
):
    bea = Browser(app.test_client())
    assert bea.login(backer).status_code == 302
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    context = chromium.new_context(
        base_url=live_server, viewport=size, locale=LANGUAGES[language], is_mobile=width == "375"
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", backer)
        page.fill("#password", "correct horse battery")
        with page.expect_navigation():
            page.click("main form [type=submit]")
        page.goto("/")
        nav = page.get_by_role("navigation", name="Main") if language == "en" else None
        if width == "375":
            toggler = page.locator(".navbar-toggler")
            expect(toggler).to_be_visible()
            toggler.click()
            expect(page.locator("#nav.show:not(.collapsing)")).to_be_visible()  # opened
        for href in ("/my/pledges", "/my/projects", "/settings/profile"):
            expect(page.locator(f"#nav a[href='{href}']")).to_be_visible()
        expect(page.locator("#nav form[action='/logout'] button")).to_be_visible()
        if nav is not None:
            for name in NAV["en"]:
                expect(
                    nav.get_by_role("link", name=name).or_(nav.get_by_role("button", name=name))
                ).to_be_visible()
        screenshot(page, f"nav-{width}-{language}")

        page.goto(f"/projects/{project.id}")
        backed = page.get_by_test_id("you-backed-this")
        expect(backed).to_be_visible()
        expect(backed.locator(f"a[href='/pledges/{pledge.id}']")).to_be_visible()
        if language == "en":
            expect(backed).to_contain_text("You backed this")
            expect(backed).to_contain_text("See your pledge of $25.00")
        screenshot(page, f"backed-{width}-{language}")

        page.goto("/settings/sessions")
        expect(page.get_by_test_id("session")).to_have_count(2)  # Bea's test client, and here
        screenshot(page, f"sessions-{width}-{language}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= size["width"], f"the sessions page is {wide} px wide"
    finally:
        context.close()
