"""Fixtures: a database built by the migrations once per run, emptied after every test.

The suite runs on SQLite by default; set TEST_DATABASE_URL to a PostgreSQL server URL
(for example postgresql://postgres@127.0.0.1:5432/postgres) to run it there: a scratch
database is created for the run and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import make_url

from app import clock as app_clock
from app import create_app
from app.extensions import db, limiter
from tests.helpers import Browser, gen_project, gen_user
from tests.helpers.app import IsolatedClient, config_for_tests, empty_tables
from tests.helpers.pledging import new_backer
from tests.helpers.settling import Clock
from tests.helpers.stripe_fake import FakeStripe


def pytest_collection_modifyitems(config, items):
    on_postgres = _is_postgres(os.environ.get("TEST_DATABASE_URL", ""))
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (see README)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)
        folder = item.path.parent.name
        if folder in E2E_FOLDERS:
            item.add_marker(pytest.mark.e2e)
        if folder in FAST_FOLDERS or item.path.name == "test_layers.py":
            item.add_marker(pytest.mark.fast)


# Suites that drive the whole platform (a browser, whole campaigns) or start and restart the fake
# Stripe's own process: select them with -m e2e, leave them out with -m "not e2e".
E2E_FOLDERS = {"browser", "simulation", "fakestripe"}
# The fast tier (scripts/test --fast): domain rules, and services with Stripe in memory.
FAST_FOLDERS = {"domain", "fast"}


def _is_postgres(url: str) -> bool:
    return url.startswith("postgres")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    server_url = os.environ.get("TEST_DATABASE_URL", "")
    if not _is_postgres(server_url):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    import psycopg

    server = make_url(server_url).set(drivername="postgresql")
    name = f"crowdfund_test_{uuid.uuid4().hex[:10]}"
    admin_dsn = server.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def test_config(database_url, fakestripe_url) -> dict:
    return config_for_tests(database_url, fakestripe_url)


@pytest.fixture(scope="session")
def _migrated(test_config, instance_dir) -> None:
    """Build the schema once, from the migrations (never create_all)."""
    app = create_app(test_config, instance_path=instance_dir)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def app(_migrated, test_config, instance_dir) -> Iterator[Flask]:
    app = create_app(test_config, instance_path=instance_dir)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        db.engine.dispose()
    limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser(client) -> Browser:
    """A test client that fills and submits real forms, CSRF token included."""
    return Browser(client)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- the fake Stripe server ---------------------------------------------------------------


@pytest.fixture(scope="session")
def fakestripe_url() -> Iterator[str]:
    """devtools.fakestripe on a free loopback port, for the whole run."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        # No processing fees by default, so payouts in tests are round figures; the tests of
        # fees (tests/settlement/test_processing_fees.py) set Stripe's pricing for themselves
        # (reset puts this back), and the fake's own tests run it with Stripe's pricing.
        [
            sys.executable,
            "-m",
            "devtools.fakestripe",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--fees",
            "none",
            # Stripe's checks of an onboarded account end when a test says so (POST
            # /_config/accounts/<id>/verify), never on a timer racing the test.
            "--verification-after",
            "3600",
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/_config/requests", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise RuntimeError("fakestripe did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def stripe_fake(app, fakestripe_url) -> Iterator[FakeStripe]:
    """The fake Stripe the app talks to, emptied for this test."""
    fake = FakeStripe(fakestripe_url)
    fake.reset()
    yield fake
    fake.http.close()


# ---- the people and the project most stories start from ----------------------------------


@pytest.fixture
def creator():
    return gen_user("creator@example.com", "Cora")


@pytest.fixture
def project(creator):
    """Live, USD, goal $1,000; tiers $10 (unlimited) and $20."""
    return gen_project(creator, "live", goal=100_000, tiers=2)


@pytest.fixture
def backer(app):
    """Bea, logged in, with her own client."""
    return new_backer(app)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """app.clock.now, movable forward by the test."""
    fake = Clock()
    monkeypatch.setattr(app_clock, "now", fake.now)
    return fake
