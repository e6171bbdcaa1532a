"""Settlement rules in plain Python: the outcome and the platform fee.

The fee rule: fee = total x percent / 100, rounded half up to a whole minor unit, computed
once on the project's total (never per pledge). The payout is the total minus the fee, so
fee + payout == total to the cent, and refunds return exactly what was charged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    total: int
    fee: int
    payout: int


def platform_fee(total: int, percent: int) -> int:
    """Half up: 2.5 cents becomes 3, 2.4 becomes 2. Integers only."""
    if total < 0 or not 0 <= percent <= 100:
        raise ValueError("total must be >= 0 and percent 0..100")
    return (total * percent * 2 + 100) // 200


def split(total: int, percent: int) -> Split:
    fee = platform_fee(total, percent)
    return Split(total=total, fee=fee, payout=total - fee)


def is_funded(held_total: int, goal: int) -> bool:
    """All or nothing: the goal reached exactly counts as funded."""
    return held_total >= goal
