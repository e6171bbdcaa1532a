"""The application under test: its settings, a client whose requests run as a server runs
them, and the tables emptied after each test."""

from __future__ import annotations

import contextvars

from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from app.extensions import db

# Rows the migrations create (reference data) and the tests must keep.
REFERENCE_TABLES = {"alembic_version", "categories"}


def config_for_tests(database_url: str, stripe_url: str) -> dict:
    """The settings every test app starts from: the test database, Stripe at ``stripe_url``
    (the fake; the fast tier gives an address that refuses at once), fast password hashes."""
    return {
        "TESTING": True,
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_RETRY_ATTEMPTS": 1,  # faults surface at once; retry tests set their own
        "STRIPE_RATE_LIMIT": 1000,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_MIN_LENGTH": 10,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production uses scrypt
        # Many tests move the clock past a deadline weeks away with people signed in; the end
        # of an idle session has its own test (tests/accounts/test_sessions.py).
        "SESSION_IDLE_DAYS": 400,
    }


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


def empty_tables() -> None:
    """Delete every row the test wrote, keeping the reference data."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # A transaction a test left open (a thread that never finished) would hold TRUNCATE,
            # and every test after it, forever: end it, and fail the cleanup fast instead of
            # waiting if anything else still holds a table.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
