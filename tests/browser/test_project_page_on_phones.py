"""The project page on a phone shows what is raised, the time left and the Back button before the
story, and keeps them in the side column on a desktop (issue 12.7), in English and in Chinese;
screenshots of it at both widths in both languages are left in instance/screenshots
(``project-375-en.png``, ``project-1280-zh_Hans_CN.png``, ...) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import project_path
from tests.helpers.browser import (
    DESKTOP,
    PHONE,
    live_project_with_cover,
    needs_chromium,
    screenshot,
)

pytestmark = [pytest.mark.browser, needs_chromium]

# The reader's language, as the browser asks for it.
LANGUAGES = {"en": "en-US", "zh_Hans_CN": "zh-CN"}


@pytest.fixture
def project(app):
    """Live, USD, goal $1,000; tiers "Tier 1" ($10) and "Tier 2" ($20); a real cover image."""
    yield from live_project_with_cover("USD", 100_000, (40, 60, 110))


def boxes(page: Page) -> dict[str, dict]:
    """Where the page draws the funding box's parts, the Back button and the story."""
    found = {
        "progress": page.get_by_test_id("funding").locator("progress"),
        "pledged": page.get_by_test_id("pledged"),
        "time left": page.get_by_test_id("time-left"),
        "back": page.get_by_test_id("funding").locator("a[href$='/back']"),
        "story": page.get_by_test_id("story"),
    }
    for locator in found.values():
        expect(locator).to_be_visible()
    return {name: locator.bounding_box() for name, locator in found.items()}


def comes_before(page: Page, first: str, then: str) -> bool:
    """Whether the element ``first`` precedes ``then`` in the document (so for the keyboard and
    a screen reader too)."""
    return page.evaluate(
        "([a, b]) => !!(document.querySelector(a).compareDocumentPosition("
        "document.querySelector(b)) & Node.DOCUMENT_POSITION_FOLLOWING)",
        [first, then],
    )


@pytest.fixture(params=LANGUAGES)
def language(request) -> str:
    return request.param


@pytest.fixture
def reader(chromium, live_server, language) -> Iterator[Page]:
    """A visitor whose browser asks for the language."""
    context = chromium.new_context(base_url=live_server, locale=LANGUAGES[language])
    yield context.new_page()
    context.close()


def test_a_phone_shows_the_funding_box_and_back_button_before_the_story(
    app, project, reader, language
):
    page = reader
    page.set_viewport_size(PHONE)
    page.goto(project_path(project))
    at = boxes(page)
    screenshot(page, f"project-375-{language}")

    story_top = at["story"]["y"]
    for name in ("progress", "pledged", "time left", "back"):
        assert at[name]["y"] + at[name]["height"] <= story_top, f"{name} is not above the story"
    assert at["back"]["x"] >= 0 and at["back"]["x"] + at["back"]["width"] <= PHONE["width"]
    assert comes_before(page, "[data-testid=funding]", "[data-testid=story]")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_desktop_keeps_the_funding_box_beside_the_cover(app, project, reader, language):
    page = reader
    page.set_viewport_size(DESKTOP)
    page.goto(project_path(project))
    at = boxes(page)
    screenshot(page, f"project-1280-{language}")

    story_right = at["story"]["x"] + at["story"]["width"]
    for name in ("progress", "pledged", "back"):
        assert at[name]["x"] >= story_right, f"{name} is not in the side column"
    # ... and at the top: the Back button is on the first screen, beside the cover.
    assert at["back"]["y"] + at["back"]["height"] <= DESKTOP["height"]
    cover = page.locator("img.project-cover").bounding_box()
    assert at["pledged"]["y"] < cover["y"] + cover["height"]


def test_the_viewers_own_time_only_when_it_differs(app, project, chromium, live_server):
    """The deadline in the creator's zone (UTC here), and the viewer's own beside it only when
    it is another: one line less in the funding box for most."""
    for zone, shown in [("UTC", False), ("Asia/Shanghai", True)]:
        context = chromium.new_context(base_url=live_server, timezone_id=zone)
        page = context.new_page()
        page.goto(project_path(project))
        viewer = page.get_by_text("Your time:")
        if shown:
            expect(viewer).to_be_visible()
            expect(viewer).to_contain_text("GMT+8")
        else:
            expect(viewer).to_be_hidden()
        context.close()
