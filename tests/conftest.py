"""Fixtures: a database built by the migrations once per run, emptied after every test.

The suite runs on SQLite by default; set TEST_DATABASE_URL to a PostgreSQL server URL
(for example postgresql://postgres@127.0.0.1:5432/postgres) to run it there: a scratch
database is created for the run and dropped at the end.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import make_url, text

from app import create_app
from app.extensions import db, limiter
from tests.helpers import Browser

# Rows the migrations create (reference data) and the tests must keep.
REFERENCE_TABLES = {"alembic_version", "categories"}


def pytest_collection_modifyitems(config, items):
    on_postgres = _is_postgres(os.environ.get("TEST_DATABASE_URL", ""))
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (see README)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


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
def test_config(database_url) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_MIN_LENGTH": 10,
    }


@pytest.fixture(scope="session")
def _migrated(test_config, instance_dir) -> None:
    """Build the schema once, from the migrations (never create_all)."""
    app = create_app(test_config, instance_path=instance_dir)
    with app.app_context():
        upgrade()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context, as a real server does.

    The test body holds an app context for its own queries; without this, requests would
    share its ``g`` (the logged-in user) and its database session.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.rollback()  # end the test's read transaction: see what the request wrote
        return response


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


def empty_tables() -> None:
    """Delete every row the test wrote, keeping the reference data."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


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
