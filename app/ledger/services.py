"""Booking money movements and reading balances: the double-entry book itself.

Accounts are named strings: ``backer:<user id>`` (money outside the platform, on a backer's
card), ``escrow:<project id>`` (held for a project), ``creator:<project id>`` and
``platform:fees``. A transaction moves an amount from one account to another as two
entries that sum to zero.
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.ledger.models import LedgerEntry, LedgerTransaction


def backer(user_id: int) -> str:
    return f"backer:{user_id}"


def escrow(project_id: int) -> str:
    return f"escrow:{project_id}"


def creator(project_id: int) -> str:
    return f"creator:{project_id}"


PLATFORM_FEES = "platform:fees"


def book(
    kind: str,
    source: str,
    project_id: int,
    pledge_id: int | None,
    currency: str,
    moves: list[tuple[str, str, int]],
) -> bool:
    """Record moves (from account, to account, amount) once per source; False if already."""
    try:
        with db.session.begin_nested():
            txn = LedgerTransaction(
                kind=kind,
                source=source,
                project_id=project_id,
                pledge_id=pledge_id,
                currency=currency,
            )
            for from_account, to_account, amount in moves:
                if amount <= 0:
                    raise ValueError("ledger moves are positive amounts")
                txn.entries.append(
                    LedgerEntry(account=from_account, amount=-amount, currency=currency)
                )
                txn.entries.append(
                    LedgerEntry(account=to_account, amount=amount, currency=currency)
                )
            db.session.add(txn)
    except IntegrityError:
        return False  # the same source was booked before
    return True


def book_many(kind: str, moves: list[tuple[str, int, int | None, str, str, str, int]]) -> None:
    """Many one-move transactions at once: (source, project id, pledge id, currency, from
    account, to account, amount). For callers that already guarantee each source is new (a
    conditional UPDATE they won); the unique source still refuses a second booking."""
    if not moves:
        return
    ids = db.session.scalars(
        insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
        [
            {
                "kind": kind,
                "source": source,
                "project_id": project_id,
                "pledge_id": pledge_id,
                "currency": currency,
                "created_at": clock.now(),
            }
            for source, project_id, pledge_id, currency, _, _, _ in moves
        ],
    ).all()
    entries = []
    for txn_id, (_, _, _, currency, from_account, to_account, amount) in zip(
        ids, moves, strict=True
    ):
        if amount <= 0:
            raise ValueError("ledger moves are positive amounts")
        entries.append(
            {
                "transaction_id": txn_id,
                "account": from_account,
                "amount": -amount,
                "currency": currency,
            }
        )
        entries.append(
            {
                "transaction_id": txn_id,
                "account": to_account,
                "amount": amount,
                "currency": currency,
            }
        )
    db.session.execute(insert(LedgerEntry), entries)


def transactions_of(project_id: int) -> list[LedgerTransaction]:
    """Every money movement of a project, oldest first."""
    return list(
        db.session.scalars(
            select(LedgerTransaction)
            .where(LedgerTransaction.project_id == project_id)
            .order_by(LedgerTransaction.id)
        )
    )


def balance(account: str) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account == account)
    )
