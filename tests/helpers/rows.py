"""The whole database as rows, so "nothing changed" is checked on every table."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db

# Bookkeeping every signed-in request may write (at most once a minute), not a change it made:
# when and from where a session was last seen.
IGNORED_COLUMNS = {"user_sessions": {"last_seen_at", "ip"}}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (less ``IGNORED_COLUMNS``)."""
    db.session.rollback()  # see what the requests committed
    rows = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        ignored = IGNORED_COLUMNS.get(table.name, set())
        columns = [c for c in table.columns if c.name not in ignored]
        query = select(*columns).order_by(*order)
        rows[table.name] = [tuple(r) for r in db.session.execute(query)]
    db.session.rollback()
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])
