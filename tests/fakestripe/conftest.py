"""Fixtures for fakestripe's own tests: the server as a subprocess, the real SDK, a webhook sink."""

import subprocess
import sys

import pytest
import requests
import stripe

from tests.helpers.fakestripe import ROOT, SECRET, Sink, free_port, wait_until_up

CARD_EXPIRY = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium")


class Fake:
    """Plain HTTP access to the fake server, for control endpoints and raw API calls."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()

    def call(self, method, path, data=None, **kwargs):
        """Send a request; the secret key is used for /v1/ paths unless auth is given."""
        if path.startswith("/v1/"):
            kwargs.setdefault("auth", ("sk_test_fakestripe", ""))
        return self.http.request(method, self.url + path, data=data, timeout=10, **kwargs)

    def json(self, method, path, data=None, **kwargs):
        """Send a request that must succeed and return its JSON body."""
        response = self.call(method, path, data, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def requests_log(self):
        return self.json("GET", "/_config/requests")


@pytest.fixture(scope="session")
def fake_server(tmp_path_factory):
    """Start `python -m devtools.fakestripe` on a free loopback port for the whole session."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("fakestripe") / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devtools.fakestripe", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, log_path.read_text)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(autouse=True)
def fake(fake_server):
    """The fake server, emptied before each test."""
    fake = Fake(fake_server)
    assert fake.call("DELETE", "/_config/data").status_code == 200
    yield fake
    fake.http.close()


@pytest.fixture
def sdk(fake):
    """The real stripe SDK pointed at the fake, without retries so faults surface."""
    http = stripe.RequestsClient()
    base = {"api": fake.url, "connect": fake.url, "files": fake.url}
    yield stripe.StripeClient(
        "sk_test_fakestripe", base_addresses=base, max_network_retries=0, http_client=http
    )
    http.close()


@pytest.fixture
def card(sdk):
    """Make a card PaymentMethod for a test card number."""

    def make(number):
        params = {"type": "card", "card": {"number": number, **CARD_EXPIRY}}
        return sdk.v1.payment_methods.create(params)

    return make


@pytest.fixture
def pay(sdk, card):
    """Create and confirm a PaymentIntent with a test card (4242 by default)."""

    def make(amount=1000, currency="usd", number="4242424242424242", **params):
        pi = sdk.v1.payment_intents.create({"amount": amount, "currency": currency, **params})
        return sdk.v1.payment_intents.confirm(pi.id, {"payment_method": card(number).id})

    return make


@pytest.fixture
def webhooks(fake):
    """A webhook endpoint registered with the fake server."""
    sink = Sink()
    hook = {"url": sink.url, "secret": SECRET}
    assert fake.call("POST", "/_config/webhooks/fakestripe-tests", hook).status_code == 200
    yield sink
    sink.close()
