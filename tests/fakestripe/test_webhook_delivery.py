"""Webhook delivery as Stripe does it: retried with exponential backoff while the endpoint fails,
``pending_webhooks`` counting until it answers 2xx, each attempt signed anew; and the chaos mode
that delivers some events twice and some late, the same way again for the same seed."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from tests.helpers.fakestripe import free_port

SECRET = "whsec_delivery_tests"
HOOK = "delivery-tests"


class ScriptedEndpoint:
    """A webhook endpoint answering the statuses of a script in turn (then always the last)."""

    def __init__(self, statuses=(200,)):
        self.statuses = list(statuses)
        self.received = []  # (monotonic time, body, Stripe-Signature)
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    endpoint.received.append(
                        (time.monotonic(), body, self.headers.get("Stripe-Signature"))
                    )
                    n = len(endpoint.received)
                status = endpoint.statuses[min(n, len(endpoint.statuses)) - 1]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        return [json.loads(body) for _, body, _ in list(self.received)]

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} deliveries"
            time.sleep(0.02)
        return list(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def endpoint(fake):
    """Register a scripted endpoint for customer.created: endpoint(500, 500, 200). It is the
    only endpoint: the one other tests register (and leave behind, closed) is removed."""
    assert fake.call("DELETE", "/_config/webhooks/fakestripe-tests").status_code == 200
    made = []

    def make(*statuses, url=None):
        sink = ScriptedEndpoint(statuses or (200,))
        made.append(sink)
        hook = {"url": url or sink.url, "secret": SECRET, "events[]": "customer.created"}
        assert fake.call("POST", f"/_config/webhooks/{HOOK}", hook).status_code == 200
        return sink

    yield make
    assert fake.call("DELETE", f"/_config/webhooks/{HOOK}").status_code == 200
    for sink in made:
        sink.close()


def settings(fake, **values):
    return fake.json("POST", "/_config/settings", {k: str(v) for k, v in values.items()})


def wait_quiet(fake, timeout=15):
    """Until the fake has no delivery left to make; its attempts so far."""
    deadline = time.monotonic() + timeout
    while True:
        deliveries = fake.json("GET", "/_config/deliveries")
        if not deliveries["pending"]:
            assert {a["endpoint"] for a in deliveries["attempts"]} <= {HOOK}
            return deliveries["attempts"]
        assert time.monotonic() < deadline, deliveries["pending"]
        time.sleep(0.05)


def test_a_failed_delivery_is_retried_with_growing_intervals_until_2xx(fake, sdk, endpoint):
    settings(fake, webhook_retry=0.3)
    sink = endpoint(500, 500, 503, 200)
    customer = sdk.v1.customers.create({"email": "a@example.com"})
    event = sdk.v1.events.list({"type": "customer.created"}).data[0]
    assert event.data.object.id == customer.id
    sink.wait_for(2)
    assert sdk.v1.events.retrieve(event.id).pending_webhooks == 1  # failed so far: still counted
    received = sink.wait_for(4)
    times = [t for t, _, _ in received]
    assert times == sorted(times)
    for _, body, signature in received:  # the same event, each attempt signed when it is sent
        assert stripe.Webhook.construct_event(body, signature, SECRET).id == event.id
    stamps = [int(signature.split(",")[0].removeprefix("t=")) for _, _, signature in received]
    assert stamps == sorted(stamps) and stamps[-1] > stamps[0], stamps
    attempts = wait_quiet(fake)
    assert [(a["event"], a["attempt"], a["status"]) for a in attempts] == [
        (event.id, 1, 500),
        (event.id, 2, 500),
        (event.id, 3, 503),
        (event.id, 4, 200),
    ]
    # The schedule the fake kept, not the wall clock of a loaded machine: 0.3 s, 0.6 s, 1.2 s.
    assert [a["waited"] for a in attempts[1:]] == pytest.approx([0.3, 0.6, 1.2])
    assert sdk.v1.events.retrieve(event.id).pending_webhooks == 0
    time.sleep(0.7)
    assert len(sink.received) == 4  # nothing after the 2xx


def test_it_gives_up_after_the_last_attempt_and_the_event_stays_pending(fake, sdk, endpoint):
    settings(fake, webhook_retry=0.1, webhook_attempts=3)
    sink = endpoint(500)
    sdk.v1.customers.create({"email": "a@example.com"})
    event = sdk.v1.events.list({"type": "customer.created"}).data[0]
    sink.wait_for(3)
    attempts = wait_quiet(fake)
    assert [a["status"] for a in attempts] == [500, 500, 500]
    time.sleep(0.6)
    assert len(sink.received) == 3
    assert sdk.v1.events.retrieve(event.id).pending_webhooks == 1


def test_an_endpoint_that_cannot_be_reached_is_retried_too(fake, sdk, endpoint):
    settings(fake, webhook_retry=0.1, webhook_attempts=2)
    endpoint(url=f"http://127.0.0.1:{free_port()}/hook")  # nobody listens there
    sdk.v1.customers.create({"email": "a@example.com"})
    time.sleep(1)
    attempts = wait_quiet(fake)
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert all(isinstance(a["status"], str) and "Connect" in a["status"] for a in attempts)


def test_a_reset_drops_the_retries_and_restores_the_schedule(fake, sdk, endpoint):
    assert fake.json("GET", "/_config/settings")["webhook_retry"] == 1.0
    settings(fake, webhook_retry=0.4)
    sink = endpoint(500)
    sdk.v1.customers.create({"email": "a@example.com"})
    sink.wait_for(1)
    assert fake.json("GET", "/_config/deliveries")["pending"][0]["attempt"] == 2
    assert fake.call("DELETE", "/_config/data").status_code == 200
    assert fake.json("GET", "/_config/deliveries") == {"pending": [], "attempts": []}
    assert fake.json("GET", "/_config/settings")["webhook_retry"] == 1.0
    time.sleep(1)
    assert len(sink.received) == 1


def test_the_settings_check_their_values(fake):
    current = fake.json("GET", "/_config/settings")
    assert {k: current[k] for k in ("webhook_attempts", "chaos", "chaos_seed")} == {
        "webhook_attempts": 8,
        "chaos": False,
        "chaos_seed": 0,
    }
    for name, value in [
        ("chaos_duplicates", "1.5"),
        ("chaos_delays", "-1"),
        ("webhook_attempts", "0"),
        ("webhook_retry", "soon"),
        ("chaos", "maybe"),
    ]:
        answer = fake.call("POST", "/_config/settings", {name: value})
        assert answer.status_code == 400, (name, value)
        assert answer.json()["error"]["param"] == name


def chaos_run(fake, sdk, endpoint, seed, n=20):
    """n customers a little apart, with chaos on; which were sent twice, which came late."""
    settings(
        fake,
        chaos="true",
        chaos_seed=seed,
        chaos_duplicates=0.3,
        chaos_delays=0.3,
        chaos_max_delay=1.2,
    )
    sink = endpoint(200)
    for i in range(n):
        sdk.v1.customers.create({"email": f"c{i}@example.com"})
        time.sleep(0.03)
    created = [e.id for e in reversed(sdk.v1.events.list({"limit": 100}).data)]
    assert len(created) == n
    attempts = wait_quiet(fake)
    arrived = [e["id"] for e in sink.events()]
    assert set(arrived) == set(created)
    index = {event_id: i for i, event_id in enumerate(created)}
    twice = sorted(index[e] for e in set(arrived) if arrived.count(e) == 2)
    first = [index[e] for e in dict.fromkeys(arrived)]  # in the order of their first arrival
    late = sorted(i for pos, i in enumerate(first) if any(j < i for j in first[pos + 1 :]))
    # Which events the seed held back (not which of them arrived after a later one: that
    # also depends on how busy the machine is).
    held = sorted({index[a["event"]] for a in attempts if a["attempt"] == 1 and a["waited"]})
    assert late, held  # some held back arrived after later events
    assert all(arrived.count(e) <= 2 for e in created)
    for event_id in created:
        assert sdk.v1.events.retrieve(event_id).pending_webhooks == 0
    return twice, held


def test_chaos_delivers_some_events_twice_and_some_out_of_order_the_same_for_a_seed(
    fake, sdk, endpoint
):
    twice, held = chaos_run(fake, sdk, endpoint, seed=7)
    assert twice and held, (twice, held)
    assert fake.call("DELETE", "/_config/data").status_code == 200
    assert fake.json("GET", "/_config/settings")["chaos"] is False  # back to the command line
    assert chaos_run(fake, sdk, endpoint, seed=7) == (twice, held)


def test_without_chaos_each_event_comes_once_in_order(fake, sdk, endpoint):
    sink = endpoint(200)
    for i in range(8):
        sdk.v1.customers.create({"email": f"c{i}@example.com"})
        time.sleep(0.03)
    created = [e.id for e in reversed(sdk.v1.events.list({"limit": 100}).data)]
    wait_quiet(fake)
    assert [e["id"] for e in sink.events()] == created
