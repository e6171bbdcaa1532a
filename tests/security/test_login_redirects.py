"""Where log in sends the visitor: on to a page of the site, never off it."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.helpers import PASSWORD, gen_user

OFF_SITE_NEXT = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "////evil.example/",  # werkzeug shortens it to //evil.example/ in the Location header
    "/\\evil.example/",
    "\\/evil.example/",
    "/\t/evil.example/",  # browsers drop tabs and newlines from URLs
    "/\t//evil.example/",
    "/\r\n/evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    " //evil.example/",
]


@pytest.mark.parametrize("target", OFF_SITE_NEXT)
def test_log_in_never_sends_the_visitor_off_site(browser, target):
    gen_user()
    url = "/login?" + urlencode({"next": target})
    response = browser.submit(url, {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/projects/1", "/discover?q=lamp&sort=ending", "/my/pledges"])
def test_log_in_goes_on_to_a_page_of_the_site(browser, target):
    gen_user()
    url = "/login?" + urlencode({"next": target})
    response = browser.submit(url, {"email": "ada@example.com", "password": PASSWORD})
    assert response.headers["Location"] == target
