"""The embedded SQLite database is set up for several processes at once."""

import pytest
from sqlalchemy import text

from app.extensions import db


def test_sqlite_connections_use_wal_a_busy_timeout_and_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_row_pointing_nowhere_is_refused(app):
    """Foreign keys hold on both databases (SQLite enforces them only when asked)."""
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entries (transaction_id, account, amount, currency)"
                " VALUES (999999, 'escrow:1', 100, 'USD')"
            )
        )
