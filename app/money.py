"""Money as integer minor units plus a currency code: parsing, limits and display.

Plain Python: no Flask, no database. Amounts are never floats; user input is parsed with
Decimal and refused when it has more decimals than the currency's minor unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    symbol: str
    exponent: int  # digits of the minor unit: 2 for cents, 0 for yen

    @property
    def factor(self) -> int:
        return 10**self.exponent


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", "US dollar", "$", 2),
        Currency("EUR", "Euro", "€", 2),
        Currency("GBP", "Pound sterling", "£", 2),
        Currency("CNY", "Chinese yuan", "CN¥", 2),
        Currency("JPY", "Japanese yen", "¥", 0),
    )
}

# The largest amount, in major units, a goal or a pledge may be: 100 million.
MAX_MAJOR_UNITS = 100_000_000
# What people type: digits and one decimal point. Decimal also reads "1e5" and other scripts'
# digits, so those are refused (after the range check, so "1e400" is told the maximum).
PLAIN_NUMBER = re.compile(r"\+?[0-9]*\.?[0-9]*")


class MoneyError(ValueError):
    """User-entered money that cannot be accepted; the message says why."""


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise MoneyError(f"Unknown currency {code!r}.") from None


def max_minor(code: str) -> int:
    return MAX_MAJOR_UNITS * currency(code).factor


def parse_amount(text: str | None, code: str, allow_zero: bool = False) -> int:
    """Minor units from what a person typed ("1,250.50"); positive, within the maximum."""
    cur = currency(code)
    cleaned = (text or "").strip().replace(",", "").replace("_", "")
    if cur.symbol and cleaned.startswith(cur.symbol):
        cleaned = cleaned[len(cur.symbol) :].strip()
    if not cleaned:
        raise MoneyError("Enter an amount.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError("Enter the amount as a number, like 25 or 25.50.") from None
    if not value.is_finite():
        raise MoneyError("Enter the amount as a number, like 25 or 25.50.")
    if value < 0 or (value == 0 and not allow_zero):
        raise MoneyError(
            "The amount must be more than zero."
            if not allow_zero
            else "The amount cannot be negative."
        )
    try:
        minor = value * cur.factor
    except ArithmeticError:  # decimal.Overflow: "1e999999999" is past any context's range
        raise MoneyError(
            f"The amount can be at most {format_money(max_minor(code), code)}."
        ) from None
    if minor != minor.to_integral_value():
        if cur.exponent == 0:
            raise MoneyError(f"{cur.code} amounts have no decimals.")
        raise MoneyError(f"{cur.code} amounts have at most {cur.exponent} decimals.")
    if value > MAX_MAJOR_UNITS:
        raise MoneyError(f"The amount can be at most {format_money(max_minor(code), code)}.")
    if not PLAIN_NUMBER.fullmatch(cleaned):
        raise MoneyError("Enter the amount as a number, like 25 or 25.50.")
    return int(minor)


def to_major_text(minor: int, code: str) -> str:
    """The amount as a plain number for a form field ("1250.50")."""
    cur = currency(code)
    if cur.exponent == 0:
        return str(minor)
    whole, frac = divmod(minor, cur.factor)
    return f"{whole}.{frac:0{cur.exponent}d}"


def format_money(minor: int, code: str) -> str:
    """The amount for people: "$1,250.50", "¥3,000"."""
    cur = currency(code)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), cur.factor)
    text = f"{whole:,}" if cur.exponent == 0 else f"{whole:,}.{frac:0{cur.exponent}d}"
    return f"{sign}{cur.symbol}{text}"
