"""A project's ledger as the public, hash-chained export (``app.ledger.chain``), read from the
ledger tables alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from sqlalchemy import select

from app.extensions import db
from app.ledger import chain
from app.ledger.models import LedgerEntry, LedgerTransaction

BATCH = 1000


def export_records(project_id: int) -> Iterator[dict]:
    """The project's ledger transactions, oldest first, as the export's records (see
    ``app.ledger.chain``): streamed, one entry row at a time."""
    rows = db.session.execute(
        select(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.created_at,
            LedgerTransaction.currency,
            LedgerEntry.account,
            LedgerEntry.amount,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.project_id == project_id)
        .order_by(LedgerTransaction.id, LedgerEntry.id)
        .execution_options(yield_per=BATCH)
    )
    record: dict | None = None
    for txn_id, kind, at, currency, account, amount in rows:
        if record is None or record["transaction"] != txn_id:
            if record is not None:
                yield record
            record = {
                "project": project_id,
                "transaction": txn_id,
                "kind": kind,
                "at": at.astimezone(UTC).isoformat(),
                "currency": currency,
                "entries": [],
            }
        record["entries"].append([chain.public_account(account), int(amount)])
    if record is not None:
        yield record


def lines_of(project_id: int) -> Iterator[str]:
    return chain.lines(export_records(project_id))


def chain_head(project_id: int) -> tuple[int, str]:
    """How many lines the export has now, and the hash of its last."""
    verified = chain.verify(lines_of(project_id))
    return verified.count, verified.head
