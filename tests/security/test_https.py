"""With HTTPS=true: Secure cookies, HSTS, and plain HTTP redirected to https.

The app is built with the override as an installation would set it. Its test client speaks
https by default (``PREFERRED_URL_SCHEME`` follows ``HTTPS``); plain-HTTP requests name
their ``http://`` base explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from tests.helpers import PASSWORD, Browser, gen_user
from tests.helpers.app import IsolatedClient

PLAIN = "http://localhost"


@pytest.fixture
def https_app(app, test_config, instance_dir) -> Iterator[Flask]:
    """The app with HTTPS=true, built after (and so over) the test's plain one."""
    https = create_app({**test_config, "HTTPS": True}, instance_path=instance_dir)
    https.test_client_class = IsolatedClient
    yield https
    with https.app_context():
        db.engine.dispose()


def cookie(response, name: str) -> str:
    (found,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    return found


def attributes(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def test_session_and_remember_me_cookies_are_secure_httponly_and_lax(https_app):
    assert https_app.config["HTTPS"] is True
    gen_user()
    browser = Browser(https_app.test_client())
    response = browser.submit(
        "/login",
        {"email": "ada@example.com", "password": PASSWORD, "remember": "y"},
        headers={"Referer": "https://localhost/login"},  # as browsers send it, see below
    )
    assert response.status_code == 302
    assert "Log out" in browser.client.get("/").get_data(as_text=True)
    for name in ("session", "remember_token"):
        set_cookie = cookie(response, name)
        assert {"secure", "httponly", "samesite"} <= attributes(set_cookie), set_cookie
        assert "SameSite=Lax" in set_cookie


def test_https_responses_carry_hsts(https_app):
    response = https_app.test_client().get("/")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    max_age = re.fullmatch(r"max-age=(\d+)(; includeSubDomains)?", hsts)
    assert max_age and int(max_age.group(1)) >= 180 * 24 * 3600, hsts


@pytest.mark.parametrize(
    "referer", [None, "https://evil.example/login", "http://localhost/login"], ids=str
)
def test_over_https_a_post_needs_a_same_origin_referer(https_app, referer):
    """Flask-WTF's strict check on secure requests (WTF_CSRF_SSL_STRICT), on top of the token."""
    gen_user()
    headers = {"Referer": referer} if referer else {}
    browser = Browser(https_app.test_client())
    response = browser.submit(
        "/login", {"email": "ada@example.com", "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 400
    assert "referrer" in response.get_data(as_text=True)
    assert "Log out" not in browser.client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/login", "/discover?q=lamp&sort=newest"])
def test_plain_http_is_redirected_to_https(https_app, path):
    response = https_app.test_client().get(path, base_url=PLAIN)
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["Location"] == f"https://localhost{path}"
    assert "Strict-Transport-Security" not in response.headers  # browsers ignore it over HTTP
    assert "Set-Cookie" not in response.headers


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(test_config, instance_dir, app):
    """PROXY_FIX_X_FOR=1: nginx ends TLS and says so in X-Forwarded-Proto; no redirect loop."""
    https = create_app(
        {**test_config, "HTTPS": True, "PROXY_FIX_X_FOR": 1}, instance_path=instance_dir
    )
    try:
        client = https.test_client()
        response = client.get("/", base_url=PLAIN, headers={"X-Forwarded-Proto": "https"})
        assert response.status_code == 200
        assert "Strict-Transport-Security" in response.headers
        assert client.get("/", base_url=PLAIN).status_code in (301, 302, 307, 308)
    finally:
        with https.app_context():
            db.engine.dispose()


def test_plain_http_settings_send_no_secure_cookie_hsts_or_redirect(app):
    """The default (HTTPS=false), so the tests above fail if HTTPS stops changing anything."""
    gen_user()
    response = Browser(app.test_client()).login(remember="y")
    for name in ("session", "remember_token"):
        assert "secure" not in attributes(cookie(response, name))
    home = app.test_client().get("/", base_url=PLAIN)
    assert home.status_code == 200
    assert "Strict-Transport-Security" not in home.headers
