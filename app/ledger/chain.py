"""The public, hash-chained export of a project's ledger: plain Python, no database.

Each line is one ledger transaction as JSON, with no personal data (a backer's account is
just ``backer``, a project's escrow ``escrow``, its creator ``creator``), the hash of the
line before (``prev``; the first line's is 64 zeros) and its own ``hash``: SHA-256 over
``prev``, a newline and the line's canonical JSON without ``hash`` (keys sorted, no spaces,
UTF-8). Rewriting any entry changes its hash and every hash after it, so an export saved
today, or the last hash the money page shows, tells whether the ledger was rewritten since.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

GENESIS = "0" * 64
_PER_PERSON = re.compile(r"^(backer|escrow|creator):\d+$")


def public_account(account: str) -> str:
    """``backer:48`` -> ``backer``: which person it is stays private."""
    match = _PER_PERSON.match(account)
    return match.group(1) if match else account


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(prev: str, record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(f"{prev}\n{canonical(body)}".encode()).hexdigest()


def lines(records: Iterable[dict]) -> Iterator[str]:
    """Chain the records (without ``prev`` and ``hash``) into export lines, in order."""
    prev = GENESIS
    for n, record in enumerate(records, start=1):
        linked = {**record, "n": n, "prev": prev}
        linked["hash"] = prev = digest(prev, linked)
        yield canonical(linked) + "\n"


@dataclass
class Verified:
    """What checking an export found: ``problems`` empty when it is whole and balanced."""

    count: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)
    totals: Counter = field(default_factory=Counter)  # (currency, account) -> net amount

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(text_lines: Iterable[str]) -> Verified:
    """Check every link, every hash and that every transaction's entries sum to zero."""
    result = Verified()
    for number, raw in enumerate(text_lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            entries = [(str(account), int(amount)) for account, amount in record["entries"]]
            claimed, prev, n, currency = (
                record["hash"], record["prev"], record["n"], record["currency"]
            )  # fmt: skip
        except (ValueError, KeyError, TypeError) as error:
            result.problems.append(f"line {number}: not an export line ({error})")
            return result
        if n != result.count + 1 or prev != result.head:
            result.problems.append(
                f"line {number}: does not follow line {number - 1} (a line removed, added or moved)"
            )
            return result
        if digest(prev, record) != claimed:
            result.problems.append(f"line {number}: its hash does not match what it says")
            return result
        if sum(amount for _account, amount in entries) != 0:
            result.problems.append(f"line {number}: its entries do not sum to zero")
        for account, amount in entries:
            result.totals[(currency, account)] += amount
        result.count, result.head = n, claimed
    return result
