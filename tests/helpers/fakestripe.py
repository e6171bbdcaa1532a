"""The fake Stripe's own tests: a free port, runs of the server, a webhook sink, Connect
accounts at the fake, and waiting for what it does later."""

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_fakestripe_test"


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """One run of the server: its URL, and what it printed once stopped."""

    url = ""
    output = ""


@contextlib.contextmanager
def server(state, *options, stop=signal.SIGTERM):
    """Run `python -m devtools.fakestripe --state FILE` until the block ends, then signal it."""
    run = Run()
    port = free_port()
    command = [sys.executable, "-m", "devtools.fakestripe", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--state", str(state), *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = run.url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, lambda: proc.communicate()[0])
        yield run
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
        try:
            run.output = proc.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            run.output = proc.communicate()[0]


class Sink:
    """A tiny HTTP server that keeps the webhook deliveries it receives."""

    secret = SECRET

    def __init__(self):
        self.deliveries = []
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.append((body, self.headers.get("Stripe-Signature")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        return [json.loads(body) for body, _ in list(self.deliveries)]

    def wait_for(self, predicate, timeout=8):
        """Wait until the delivered events satisfy predicate, and return them."""
        deadline = time.monotonic() + timeout
        while not predicate(self.events()):
            assert time.monotonic() < deadline, f"events so far: {self.events()}"
            time.sleep(0.1)
        return self.events()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def express_account(sdk, email="creator@example.com"):
    return sdk.v1.accounts.create(
        {
            "type": "express",
            "country": "US",
            "email": email,
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
    )


def onboarded_account(sdk, fake):
    """An account whose details were submitted and verified (charges and payouts enabled)."""
    account = express_account(sdk)
    fake.json("POST", f"/_config/accounts/{account.id}/complete")
    fake.json("POST", f"/_config/accounts/{account.id}/verify")
    return account


def wait_until(check, timeout=5):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def by_type(events):
    return {e["type"]: e for e in events}


def wait_until_up(url: str, proc, output, seconds: float = 20) -> None:
    """Wait for a fake Stripe process to answer; fail with what it printed if it dies first
    or takes longer than ``seconds``. ``output`` reads what it printed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url + "/_config/faults", timeout=1).close()
            return
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"fakestripe did not start:\n{output()}")
            time.sleep(0.05)
