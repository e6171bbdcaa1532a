"""The real app on a loopback port, driven by headless Chromium with the fake Stripe.js.

The server is built from the session's test configuration, so it shares the test database and
the fake Stripe with the test body: a test makes rows in its ``app`` context, commits, drives the
browser, then reads what the server wrote.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.extensions import db
from tests.helpers import gen_user
from tests.helpers.browser import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Report CSP violations on the console too, whatever the browser itself logs about them.
# (Playwright injects init scripts past the page's CSP.)
WATCH_CSP = """
document.addEventListener('securitypolicyviolation', e => console.error(
  `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`));
"""


class _QuietHandler(WSGIRequestHandler):
    """No access log lines; errors are still logged."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture(scope="module")
def live_server(_migrated, test_config, instance_dir) -> Iterator[str]:
    """The app served by werkzeug in a thread on 127.0.0.1 (no SERVER_NAME): its base URL."""
    server_app = create_app(test_config, instance_path=instance_dir)
    server = make_server("127.0.0.1", 0, server_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with server_app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def chromium(live_server):
    """One headless Chromium for the module (closed before the server stops)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Problems(list):
    """Console errors, uncaught page errors and CSP violations seen by a page."""


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page(chromium, live_server, fakestripe_url, problems):
    """A fresh browser profile (no cookies) with one page on the live server."""
    context = chromium.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()

    def on_console(message) -> None:
        url = message.location["url"]
        if message.type != "error":
            return
        # A declined card is a 402 from Stripe's API, which Chromium logs as a failed load
        # (with real Stripe too); the page shows the decline itself.
        if url.startswith(f"{fakestripe_url}/v1/") and "status of 402" in message.text:
            return
        problems.append(f"console: {message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def backer(app) -> str:
    """Bea's account (the test logs her in through the page)."""
    gen_user("bea@example.com", "Bea")
    return "bea@example.com"
