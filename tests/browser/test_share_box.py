"""The project page's share box in a real browser (issue 12.8): the copy button copies the
readable URL and says so to screen readers, the WeChat QR code opens and shows, and the box
passes axe and fits a phone, in English and in Chinese. Screenshots of the box open are left
in instance/screenshots (``share-375-en.png``, ``share-1280-zh_Hans_CN.png``, ...)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import add_axe, describe, violations
from tests.helpers import project_path
from tests.helpers.browser import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    live_project_with_cover,
    needs_chromium,
    screenshot,
)

pytestmark = [pytest.mark.browser, needs_chromium]

LANGUAGES = {"en": "en-US", "zh_Hans_CN": "zh-CN"}
WIDTHS = {"1280": DESKTOP, "375": PHONE}
WORDS = {
    "en": {"copy": "Copy link", "copied": "Link copied.", "wechat": "WeChat: scan a QR code"},
    "zh_Hans_CN": {"copy": "复制链接", "copied": "链接已复制。", "wechat": "微信扫码分享"},
}
QR_ALT = {"en": "QR code of the link to this page", "zh_Hans_CN": "本页链接的二维码"}


@pytest.fixture
def project(app):
    """Live, USD, tiers $10 and $20, a real cover image."""
    yield from live_project_with_cover("USD", 100_000, (120, 70, 30))


@pytest.fixture(params=LANGUAGES)
def language(request) -> str:
    return request.param


@pytest.fixture(params=WIDTHS)
def width(request) -> str:
    return request.param


@pytest.fixture
def reader(chromium, live_server, language, width) -> Iterator[Page]:
    context = chromium.new_context(
        base_url=live_server,
        locale=LANGUAGES[language],
        viewport=WIDTHS[width],
        reduced_motion="reduce",  # no colour transition under way while axe measures contrast
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    add_axe(context)
    yield context.new_page()
    context.close()


def test_the_share_box_copies_the_link_and_shows_the_qr_code(reader, project, language, width):
    page = reader
    page.goto(project_path(project))
    words = WORDS[language]
    box = page.get_by_test_id("share")
    link = box.get_by_test_id("share-url")
    url = link.input_value()
    assert url.endswith(project_path(project))

    box.get_by_role("button", name=words["copy"]).click()  # shown by the script
    expect(box.get_by_role("status")).to_have_text(words["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == url

    box.get_by_text(words["wechat"]).click()
    qr = box.get_by_role("img", name=QR_ALT[language])
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # the SVG loaded and drew

    found = describe(violations(page), f"share box at {width} ({language})")
    if width == "375":
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 375, f"the page is {scroll} px wide"
    assert not found, "\n".join(found)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=SCREENSHOTS / f"share-{width}-{language}.png")
    screenshot(page, f"share-page-{width}-{language}")
