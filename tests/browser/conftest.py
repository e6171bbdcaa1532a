"""The real app on a loopback port, driven by headless Chromium with the fake Stripe.js.

The server is built from the session's test configuration, so it shares the test database and
the fake Stripe with the test body: a test makes rows in its ``app`` context, commits, drives the
browser, then reads what the server wrote.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.extensions import db
from app.projects import uploads
from tests.helpers import gen_project, gen_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM}"
)

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


def live_project_with_cover(currency: str, goal: int, colour: tuple[int, int, int]):
    """Yield a live project by Cora (tiers "Tier 1" and "Tier 2") with a real cover image,
    committed so no transaction is open while the server writes; the cover file is removed
    afterwards. For the test files' own ``project`` fixtures."""
    creator = gen_user("creator@example.com", "Cora")
    project = gen_project(creator, "live", goal=goal, currency=currency, tiers=2)
    image = io.BytesIO()
    Image.new("RGB", (480, 270), colour).save(image, "PNG")
    project.cover_image = uploads.save_cover(image.getvalue())
    cover = uploads.upload_dir() / project.cover_image
    db.session.commit()
    yield project
    cover.unlink(missing_ok=True)


@pytest.fixture
def backer(app) -> str:
    """Bea's account (the test logs her in through the page)."""
    gen_user("bea@example.com", "Bea")
    return "bea@example.com"
