"""The whole pledge by keyboard alone (issue 12.6): log in, the project page, Back, a reward
chosen with the arrow keys, the amount, the pay page's card fields, Pay, and the pledge held;
no mouse. Every stop of the Tab key shows where the focus is."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.axe import add_axe, describe, violations
from tests.helpers import PASSWORD, project_path
from tests.helpers.browser import (
    assert_held,
    live_project_with_cover,
    needs_chromium,
    screenshot,
)

pytestmark = [pytest.mark.browser, needs_chromium]

VISA = "4242424242424242"
MOST_TABS = 40  # from the top of any page to anything on it

# What the focused element looks like: an outline or a ring (box-shadow) that is drawn.
FOCUS_SHOWN = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {shown: outline || s.boxShadow !== 'none',
          what: e.outerHTML.slice(0, 90).replace(/\\s+/g, ' ')};
}"""


@pytest.fixture
def project(app):
    """Live, USD, goal $1,000; tiers "Tier 1" ($10) and "Tier 2" ($20); a real cover image."""
    yield from live_project_with_cover("USD", 100_000, (40, 60, 110))


class Keyboard:
    """Tab, type and press Enter as a person without a mouse, checking that each element
    the focus lands on shows it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.unseen: list[str] = []  # focused elements with no visible focus

    def tab(self, key: str = "Tab") -> None:
        self.page.keyboard.press(key)
        focus = self.page.evaluate(FOCUS_SHOWN)
        if not focus["shown"]:
            self.unseen.append(f"{self.page.url}: {focus['what']}")

    def tab_to(self, target: Locator) -> None:
        """Tab forward until ``target`` has the focus."""
        for _ in range(MOST_TABS):
            self.tab()
            if target.evaluate("e => e === document.activeElement"):
                return
        raise AssertionError(f"{MOST_TABS} tabs did not reach {target}")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)


def test_a_pledge_made_by_keyboard_alone_is_held(app, stripe_fake, project, backer, page, problems):
    keys = Keyboard(page)
    add_axe(page.context)

    # The skip link comes first and takes the focus past the navigation.
    page.goto("/login")
    keys.tab()
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    keys.press("Enter")
    keys.tab_to(page.get_by_label("Email"))
    keys.type(backer)
    keys.tab_to(page.get_by_label("Password"))
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page.get_by_test_id("whoami")).to_contain_text("Bea")

    page.goto(project_path(project))
    keys.tab_to(page.get_by_role("link", name="Back this project"))
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Back this project")).to_be_visible()

    # Into the rewards: the first takes the focus; Space chooses it, an arrow the next one.
    first = page.get_by_role("radio", name=re.compile(r"^Tier 1\b"))
    keys.tab_to(first)
    keys.press("Space")
    expect(first).to_be_checked()
    keys.tab("ArrowDown")
    second = page.get_by_role("radio", name=re.compile(r"^Tier 2\b"))
    expect(second).to_be_focused()
    expect(second).to_be_checked()
    amount = page.get_by_label("Pledge amount")
    expect(amount).to_have_value("20.00")  # the reward's minimum, typed for the backer
    keys.tab_to(amount)
    keys.press("ControlOrMeta+a")
    keys.type("40")
    expect(page.locator("#pledge-total")).to_have_text("Total charged now: $40.00")
    keys.tab_to(page.get_by_role("button", name="Continue to payment"))
    keys.press("Enter")

    page.wait_for_url(re.compile(r"/pledges/\d+/pay$"))
    pledge_id = int(re.search(r"/pledges/(\d+)/pay$", page.url).group(1))
    expect(page.get_by_role("heading", name="Pay $40.00")).to_be_visible()
    card = page.get_by_role("group", name="Card")
    keys.tab_to(card.get_by_label("Card number"))
    for value in (VISA, "12", "34", "123"):
        keys.type(value)
        keys.tab()
    expect(card.get_by_label("ZIP")).to_be_focused()
    keys.type("10001")
    screenshot(page, "pay-by-keyboard")
    keys.tab_to(page.get_by_role("button", name="Pledge $40.00"))
    keys.press("Enter")

    assert_held(page, pledge_id)
    expect(page.get_by_test_id("in-escrow")).to_have_text("$40.00")
    # The confirmation, with its message, passes axe too.
    found = describe(violations(page), f"held pledge ({page.url})")
    assert not found, "\n".join(found)
    assert keys.unseen == [], "focus not shown on:\n" + "\n".join(keys.unseen)
    assert problems == []
