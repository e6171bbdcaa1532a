"""Booking money movements and reading balances: the double-entry book itself.

Accounts are named strings: ``backer:<user id>`` (money outside the platform, on a backer's
card), ``escrow:<project id>`` (held for a project), ``creator:<project id>``,
``platform:fees`` (the platform's fee), ``platform:processing`` (Stripe's processing fees the
platform bears: negative) and ``stripe:fees`` (what Stripe kept of every charge). A
transaction moves an amount from one account to another as two entries that sum to zero.

Processing fees never touch escrow: a backer's pledge stays whole there, so a refund returns
it in full. Stripe's fee on a charge is booked when it is read (``platform:processing`` ->
``stripe:fees``); when the creator bears fees, the payout gives the fees of the collected
pledges back (``escrow`` -> ``platform:processing``). What the platform's Stripe balance holds
is then the sum of every escrow, ``platform:fees`` and ``platform:processing``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
PLATFORM_PROCESSING = "platform:processing"
STRIPE_FEES = "stripe:fees"


@dataclass(frozen=True)
class Transfer:
    """One movement of money, booked as one ledger transaction of two entries that sum to
    zero: ``amount`` leaves ``from_account`` (its entry is negative: credited) and reaches
    ``to_account`` (positive: debited). ``source`` names what caused it (``payment:12``,
    ``refund:7``, ``payout:3``) and is unique: the same source is never booked twice."""

    kind: str  # charge, refund, refund_failed, payout, fee, processing_fee, fee_recovery
    source: str
    project_id: int
    pledge_id: int | None
    from_account: str
    to_account: str
    amount: int  # minor units of currency, > 0
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount <= 0:
            raise ValueError(f"a ledger transfer is a positive whole amount, not {self.amount!r}")


def book(transfer: Transfer) -> bool:
    """Book one transfer once per source; False if that source was booked before (a second
    webhook, a retried sweep), and then nothing is written."""
    try:
        with db.session.begin_nested():
            _insert([transfer])
    except IntegrityError:
        return False
    return True


def book_all(transfers: list[Transfer]) -> None:
    """Book many transfers in two statements, for a caller that already guarantees each
    source is new (it won the conditional UPDATE of the rows they come from); the unique
    source still refuses a second booking, by raising."""
    if transfers:
        _insert(transfers)


def _insert(transfers: list[Transfer]) -> None:
    """The one booking path: one transaction row per transfer and its two entries, all
    stamped with the same moment of the platform's clock."""
    now = clock.now()
    ids = db.session.scalars(
        insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
        [
            {
                "kind": t.kind,
                "source": t.source,
                "project_id": t.project_id,
                "pledge_id": t.pledge_id,
                "currency": t.currency,
                "created_at": now,
            }
            for t in transfers
        ],
    ).all()
    db.session.execute(
        insert(LedgerEntry),
        [
            {"transaction_id": txn_id, "account": account, "amount": amount, "currency": t.currency}
            for txn_id, t in zip(ids, transfers, strict=True)
            for account, amount in ((t.from_account, -t.amount), (t.to_account, t.amount))
        ],
    )


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
