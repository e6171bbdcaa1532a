"""Payout account stories: the creator's pages, and Stripe's onboarding page as a browser
would drive it."""

from __future__ import annotations

import requests

from tests.helpers import Browser, parse_forms

ACCOUNT = "/payouts/account"
CONNECT = "/payouts/account/connect"
RETURN = "/payouts/account/return"
REFRESH = "/payouts/account/refresh"


def connect(browser: Browser, country: str = "US"):
    """Press "Connect with Stripe" (the helper's parser does not read <option>s: say which)."""
    return browser.submit(ACCOUNT, {"country": country}, action=CONNECT)


def text(browser: Browser, url: str) -> str:
    return browser.client.get(url, follow_redirects=True).get_data(as_text=True)


def onboard(link_url: str, action: str = "complete") -> str:
    """Open Stripe's onboarding page and press one of its buttons; where it sends us back."""
    with requests.Session() as http:
        page = http.get(link_url, timeout=10, allow_redirects=False)
        assert page.status_code == 200, page.text
        (form,) = parse_forms(page.text)
        assert form["method"] == "post"
        done = http.post(link_url, data={"action": action}, timeout=10, allow_redirects=False)
    assert done.status_code == 302
    return done.headers["Location"]
