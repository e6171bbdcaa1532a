"""The corrected fake Stripe.js in headless Chromium, from a page on another loopback port."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Debian's chromium at {CHROMIUM}"
    ),
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Pledge</title></head><body>
<form id="pay"><div id="card"></div><button id="submit" type="submit">Pay</button></form>
<p id="change"></p><p id="result"></p>
<script src="{fake}/js.stripe.com/v3/"></script>
<script src="/pledge.js"></script>
</body></html>
"""
# Sample integration code as Stripe documents it, reading event.error and result.error.
SCRIPT = """
const secret = new URLSearchParams(location.search).get('secret');
const stripe = Stripe('pk_test_fakestripe');
const card = stripe.elements().create('card');
card.mount('#card');
card.on('change', event => {
  document.getElementById('change').textContent = JSON.stringify(
    {complete: event.complete, empty: event.empty, error: event.error ? event.error.code : null});
});
document.getElementById('pay').addEventListener('submit', async e => {
  e.preventDefault();
  const data = {payment_method: {card, billing_details: {name: 'Ada Lovelace'}}};
  const result = secret.startsWith('seti_')
    ? await stripe.confirmCardSetup(secret, data)
    : await stripe.confirmCardPayment(secret, data);
  const intent = result.paymentIntent || result.setupIntent;
  document.getElementById('result').textContent = result.error
    ? `error: ${result.error.type} ${result.error.code} ${result.error.message}`
      + ` ${(result.error.payment_intent || result.error.setup_intent).status}`
    : `paid: ${intent.id} ${intent.status}`;
});
"""


@pytest.fixture(scope="module")
def page_url(fake_server, tmp_path_factory):
    """Serve the pledge page from its own loopback port, like the platform would."""
    root = tmp_path_factory.mktemp("page")
    (root / "index.html").write_text(PAGE.format(fake=fake_server))
    (root / "pledge.js").write_text(SCRIPT)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def pledge(chromium, page_url, sdk, number, authenticate=None, setup=False):
    """Pay a fresh PaymentIntent (or set up a card) through the page; return (text, intent id)."""
    if setup:
        pi = sdk.v1.setup_intents.create({"usage": "off_session"})
    else:
        pi = sdk.v1.payment_intents.create({"amount": 2500, "currency": "usd"})
    page = chromium.new_page()
    try:
        page.goto(f"{page_url}?secret={pi.client_secret}")
        page.fill("input[placeholder=number]", number)
        page.fill("input[placeholder=exp_month]", "12")
        page.fill("input[placeholder=exp_year]", "34")
        page.fill("input[placeholder=cvc]", "123")
        page.fill("input[placeholder=postal_code]", "10001")
        change = json.loads(page.text_content("#change"))
        assert change == {"complete": True, "empty": False, "error": None}
        page.click("#submit")
        if authenticate:
            page.get_by_role("button", name=authenticate).click()
        page.wait_for_function("document.getElementById('result').textContent !== ''")
        return page.text_content("#result"), pi.id
    finally:
        page.close()


def test_confirm_card_payment_in_the_browser(chromium, page_url, sdk):
    result, pi = pledge(chromium, page_url, sdk, "4242424242424242")
    assert result == f"paid: {pi} succeeded"
    assert sdk.v1.payment_intents.retrieve(pi).status == "succeeded"

    result, pi = pledge(chromium, page_url, sdk, "4000000000000341")
    assert result == (
        "error: card_error card_declined Your card was declined. requires_payment_method"
    )
    assert sdk.v1.payment_intents.retrieve(pi).status == "requires_payment_method"

    result, pi = pledge(
        chromium, page_url, sdk, "4000002500003155", authenticate="Complete authentication"
    )
    assert result == f"paid: {pi} succeeded"

    result, pi = pledge(
        chromium, page_url, sdk, "4000002500003155", authenticate="Fail authentication"
    )
    assert result.startswith(
        "error: invalid_request_error payment_intent_authentication_failure We are unable"
    )
    assert sdk.v1.payment_intents.retrieve(pi).status == "requires_payment_method"


def test_confirm_card_setup_in_the_browser(chromium, page_url, sdk):
    result, seti = pledge(
        chromium, page_url, sdk, "4000002500003155", "Complete authentication", setup=True
    )
    assert result == f"paid: {seti} succeeded"
