"""--state FILE: the fake Stripe keeps its objects, balance and idempotency keys across restarts."""

import signal
import subprocess
import sys
import time

import pytest
import requests
import stripe

from tests.helpers.fakestripe import ROOT, Sink, free_port, server

_http = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _http:
        _http.pop().close()


def client(url):
    """The real SDK pointed at one run of the server (its HTTP session closed after the test)."""
    _http.append(stripe.RequestsClient())
    base = {"api": url, "connect": url, "files": url}
    return stripe.StripeClient(
        "sk_test_fakestripe", base_addresses=base, max_network_retries=0, http_client=_http[-1]
    )


def balance(url):
    response = requests.get(url + "/v1/balance", auth=("sk_test_fakestripe", ""), timeout=10)
    return {f["currency"]: f["amount"] for f in response.json()["pending"]}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_objects_survive_a_restart_and_the_intent_can_be_refunded(tmp_path, stop):
    state = tmp_path / "fakestripe.state"
    key = {"idempotency_key": "pledge-payment-1"}
    with server(state, stop=stop) as run:
        url = run.url
        sdk = client(url)
        customer = sdk.v1.customers.create({"email": "bea@example.com", "name": "Bea"})
        params = {"amount": 2500, "currency": "usd", "customer": customer.id}
        pi = sdk.v1.payment_intents.create(params, key)
        sdk.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
        assert balance(url) == {"usd": 2397}  # net of the fee: 2500 - (73 + 30)
    assert "state saved" in run.output
    assert state.is_file()
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, nothing left over

    with server(state) as run:
        url = run.url
        sdk = client(url)
        assert sdk.v1.customers.retrieve(customer.id).email == "bea@example.com"
        again = sdk.v1.payment_intents.retrieve(pi.id)
        assert (again.status, again.amount, again.customer) == ("succeeded", 2500, customer.id)
        assert balance(url) == {"usd": 2397}
        # The idempotency key is remembered: the same create replays the same intent.
        assert sdk.v1.payment_intents.create(params, key).id == pi.id
        refund = sdk.v1.refunds.create({"payment_intent": pi.id, "amount": 1000})
        assert (refund.status, refund.amount) == ("succeeded", 1000)
        assert balance(url) == {"usd": 1397}  # the refund takes 1000, the fee stays
        charge = sdk.v1.charges.retrieve(again.latest_charge)
        assert charge.amount_refunded == 1000
        events = {e.type for e in sdk.v1.events.list({"limit": 100})}
        assert {"payment_intent.succeeded", "charge.refunded"} <= events

    with server(state) as run:  # and the refund is kept too
        rest = client(run.url).v1.refunds.create({"payment_intent": pi.id})
        assert rest.amount == 1500


def test_connect_webhooks_and_faults_survive_a_restart(tmp_path):
    state = tmp_path / "fakestripe.state"
    sink = Sink()
    with server(state) as run:
        url = run.url
        sdk = client(url)
        account = sdk.v1.accounts.create(
            {"type": "express", "country": "US", "capabilities": {"transfers": {"requested": True}}}
        )
        requests.post(f"{url}/_config/accounts/{account.id}/complete", timeout=10)
        requests.post(f"{url}/_config/accounts/{account.id}/verify", timeout=10)
        requests.post(f"{url}/_config/balance", data={"available[usd]": 5000}, timeout=10)
        sdk.v1.transfers.create(
            {"amount": 1200, "currency": "usd", "destination": account.id, "transfer_group": "g"}
        )
        hook = {"url": sink.url, "secret": sink.secret, "events[]": "customer.created"}
        requests.post(f"{url}/_config/webhooks/platform", data=hook, timeout=10)
        requests.post(f"{url}/_config/faults", data={"path": "/v1/customers"}, timeout=10)
    with server(state) as run:
        url = run.url
        sdk = client(url)
        assert sdk.v1.accounts.retrieve(account.id).charges_enabled is True
        [transfer] = sdk.v1.transfers.list({"destination": account.id}).data
        assert transfer.amount == 1200
        available = requests.get(
            url + "/v1/balance", auth=("sk_test_fakestripe", ""), timeout=10
        ).json()
        assert available["available"][0] == {
            "amount": 3800,
            "currency": "usd",
            "source_types": {"card": 3800},
        }
        assert (
            requests.get(url + "/_config/faults", timeout=10).json()[0]["path"] == "/v1/customers"
        )
        logged = requests.get(url + "/_config/requests", timeout=10).json()
        assert any(r["path"] == "/v1/transfers" for r in logged)
        requests.delete(url + "/_config/faults", timeout=10)
        customer = sdk.v1.customers.create({"email": "hooked@example.com"})
        try:  # the webhook registered before the restart still gets the events
            events = sink.wait_for(lambda events: events)
        finally:
            sink.close()
        assert [e["data"]["object"]["id"] for e in events] == [customer.id]


def test_changes_are_saved_every_few_seconds_not_only_at_shutdown(tmp_path):
    state = tmp_path / "fakestripe.state"
    with server(state, "--save-every", "0.2", stop=signal.SIGKILL) as run:
        url = run.url
        customer = client(url).v1.customers.create({"email": "kept@example.com"})
        deadline = time.monotonic() + 5
        while not state.is_file():
            assert time.monotonic() < deadline, "never saved"
            time.sleep(0.05)
        saved_at = state.stat().st_mtime_ns
        for _ in range(20):  # reads change nothing, so nothing is written again
            requests.get(url + "/v1/customers", auth=("sk_test_fakestripe", ""), timeout=10)
        time.sleep(0.6)
        assert state.stat().st_mtime_ns == saved_at
    # Killed without a chance to save at shutdown: the periodic save had it.
    with server(state) as run:
        url = run.url
        assert client(url).v1.customers.retrieve(customer.id).email == "kept@example.com"


def test_without_a_file_it_starts_empty_and_creates_it(tmp_path):
    state = tmp_path / "sub" / "fakestripe.state"
    with server(state) as run:
        url = run.url
        assert client(url).v1.customers.list().data == []
    assert state.is_file()


def test_a_damaged_file_stops_the_start_with_a_clear_message(tmp_path):
    state = tmp_path / "fakestripe.state"
    state.write_bytes(b"not a pickle")
    command = [sys.executable, "-m", "devtools.fakestripe", "--port", str(free_port())]
    proc = subprocess.run(
        [*command, "--state", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert proc.returncode != 0
    assert f"cannot load the fake Stripe state from {state}" in proc.stderr
    assert "Delete the file to start empty" in proc.stderr


def test_writes_are_not_saved_one_by_one(tmp_path):
    state = tmp_path / "fakestripe.state"
    with server(state, "--save-every", "30") as run:
        sdk = client(run.url)
        ids = [sdk.v1.customers.create({"email": f"c{n}@example.com"}).id for n in range(20)]
        assert not state.exists()  # the next save is due in 30 s, or at shutdown
    with server(state) as run:
        assert {c.id for c in client(run.url).v1.customers.list({"limit": 100})} == set(ids)


def test_a_verification_under_way_ends_after_a_restart(tmp_path):
    """Stripe's checks of an account's details go on while the server is down."""
    state = tmp_path / "fakestripe.state"
    with server(state, "--verification-after", "1.5") as run:
        sdk = client(run.url)
        account = sdk.v1.accounts.create(
            {"type": "express", "country": "US", "capabilities": {"transfers": {"requested": True}}}
        )
        requests.post(f"{run.url}/_config/accounts/{account.id}/complete", timeout=10)
        assert sdk.v1.accounts.retrieve(account.id).payouts_enabled is False
    with server(state, "--verification-after", "1.5") as run:
        sdk = client(run.url)
        deadline = time.monotonic() + 10
        while not sdk.v1.accounts.retrieve(account.id).payouts_enabled:
            assert time.monotonic() < deadline, "the verification never ended"
            time.sleep(0.1)
        assert sdk.v1.accounts.retrieve(account.id).capabilities.transfers == "active"
        assert len(sdk.v1.events.list({"type": "capability.updated"}).data) == 1
