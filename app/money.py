"""Money as integer minor units plus a currency code: parsing, limits and display.

Plain Python: no Flask, no database. Amounts are never floats; user input is parsed with
Decimal and refused when it has more decimals than the currency's minor unit.

Amounts are shown and read in the reader's locale, through Babel: ``format_money`` writes
"CN¥1,234.00" in English and "¥1,234.00" in Chinese, JPY without decimals; ``parse_amount``
reads separators as the locale writes numbers (``NUMBER_CONVENTIONS``, from Babel's data:
today "en" and "zh_Hans_CN", both 1,234.56). What the convention does not allow is refused
with a message saying what to write, never reinterpreted: "45,50" is not 4550 (nor 45.50),
"1.250,50" is not 1.25, and a point in a yen amount ("1.500") is refused, since in many
locales it groups thousands. Messages go through ``app.i18n`` in the reader's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_symbol, get_decimal_symbol, get_group_symbol

from app.i18n import LOCALES, gettext, ngettext


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


@dataclass(frozen=True)
class NumberConvention:
    """How a locale writes numbers: the decimal mark and the thousands separator."""

    decimal: str
    group: str

    def __post_init__(self) -> None:
        if self.decimal == self.group or len(self.decimal) != 1 or len(self.group) != 1:
            raise ValueError("a number convention needs two different one-character marks")

    @classmethod
    def of(cls, locale: str) -> NumberConvention:
        """The convention Babel's locale data gives ``locale``."""
        return cls(get_decimal_symbol(locale), get_group_symbol(locale))

    def write(self, whole: str, frac: str = "") -> str:
        """An example written the locale's way: write("1250", "50") -> "1,250.50"."""
        groups = []
        while len(whole) > 3:
            whole, tail = whole[:-3], whole[-3:]
            groups.insert(0, tail)
        text = self.group.join([whole, *groups])
        return f"{text}{self.decimal}{frac}" if frac else text


# The locales the site speaks (app.i18n.LOCALES), each read as Babel says it writes numbers.
NUMBER_CONVENTIONS: dict[str, NumberConvention] = {
    locale: NumberConvention.of(locale) for locale in LOCALES
}
DEFAULT_LOCALE = "en"


def number_convention(locale: str = DEFAULT_LOCALE) -> NumberConvention:
    """The convention of ``locale`` ("en", "en_GB", "zh_Hans_CN"); its language's if only
    that is known. An unknown locale is a programming error, not the reader's."""
    for key in (locale, locale.replace("-", "_").split("_")[0]):
        if key in NUMBER_CONVENTIONS:
            return NUMBER_CONVENTIONS[key]
    raise LookupError(f"No number convention for locale {locale!r}.")


def _separator_message(cur: Currency, conv: NumberConvention) -> str:
    if cur.exponent == 0:
        return gettext(
            "%(code)s amounts have no decimals: write %(plain)s or %(grouped)s.",
            code=cur.code,
            plain="1500",
            grouped=conv.write("1500"),
        )
    example, grouped = "45" + conv.decimal + "50", conv.write("1250", "50")
    if (conv.decimal, conv.group) == (".", ","):
        return gettext(
            "Use a point for decimals (%(example)s); a comma may only separate thousands, "
            "as in %(grouped)s.",
            example=example,
            grouped=grouped,
        )
    return gettext(
        "Use “%(decimal)s” for decimals (%(example)s); “%(group)s” may only separate "
        "thousands, as in %(grouped)s.",
        decimal=conv.decimal,
        group=conv.group,
        example=example,
        grouped=grouped,
    )


def _spaces_message(cur: Currency, conv: NumberConvention) -> str:
    if cur.exponent == 0:
        plain, grouped = "1500", conv.write("1500")
    else:
        plain, grouped = f"1250{conv.decimal}50", conv.write("1250", "50")
    return gettext(
        "Write the amount without spaces, as in %(plain)s or %(grouped)s.",
        plain=plain,
        grouped=grouped,
    )


def _not_a_number_message(conv: NumberConvention) -> str:
    return gettext(
        "Enter the amount as a number, like %(whole)s or %(decimal)s.",
        whole="25",
        decimal=f"25{conv.decimal}50",
    )


def _no_decimals_message(cur: Currency) -> str:
    return gettext("%(code)s amounts have no decimals.", code=cur.code)


@dataclass(frozen=True)
class _Read:
    text: str  # for Decimal: no grouping, "." for decimals
    decimals: int | None  # digits typed after the decimal mark; None: no mark (or not plain)


def _read_separators(text: str, cur: Currency, conv: NumberConvention) -> _Read:
    """Check the separators of a plain number (ASCII digits, the convention's two marks, a
    leading sign) and drop the grouping. Anything else is handed on as it is, for Decimal to
    read or refuse; commas in it make Decimal refuse it."""
    sign, body = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    if not body or not set(body) <= set("0123456789") | {conv.decimal, conv.group}:
        return _Read(text, None)
    d, g = re.escape(conv.decimal), re.escape(conv.group)
    shape = re.fullmatch(rf"([0-9]*|[0-9]{{1,3}}(?:{g}[0-9]{{3}})+)(?:{d}([0-9]*))?", body)
    if shape is None:  # "45,50", "1,2345", ",50", "1,,000", "1.250,50", "1.250.000"
        raise MoneyError(_separator_message(cur, conv))
    whole, frac = shape.group(1).replace(conv.group, ""), shape.group(2)
    if frac is None:
        return _Read(sign + whole, None)
    return _Read(f"{sign}{whole}.{frac}", len(frac))


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise MoneyError(gettext("Unknown currency %(code)s.", code=repr(code))) from None


def max_minor(code: str) -> int:
    return MAX_MAJOR_UNITS * currency(code).factor


def parse_amount(
    text: str | None, code: str, allow_zero: bool = False, *, locale: str = DEFAULT_LOCALE
) -> int:
    """Minor units from what a person typed ("1,250.50"); positive, within the maximum.

    Separators are read as ``locale`` writes numbers; one that is not where that locale puts
    it (or that the currency's minor unit makes ambiguous) is refused, never guessed."""
    cur = currency(code)
    conv = number_convention(locale)
    cleaned = (text or "").strip().replace("_", "")
    for symbol in sorted({cur.symbol, get_currency_symbol(code, locale)}, key=len, reverse=True):
        if symbol and cleaned.startswith(symbol):
            cleaned = cleaned[len(symbol) :].strip()
            break
    if not cleaned:
        raise MoneyError(gettext("Enter an amount."))
    if any(ch.isspace() for ch in cleaned):  # "1 250", "1\u202f250": grouping we do not read
        raise MoneyError(_spaces_message(cur, conv))
    read = _read_separators(cleaned, cur, conv)
    cleaned = read.text
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError(_not_a_number_message(conv)) from None
    if not value.is_finite():
        raise MoneyError(_not_a_number_message(conv))
    if value < 0 or (value == 0 and not allow_zero):
        raise MoneyError(
            gettext("The amount must be more than zero.")
            if not allow_zero
            else gettext("The amount cannot be negative.")
        )
    too_much = gettext(
        "The amount can be at most %(maximum)s.",
        maximum=format_money(max_minor(code), code, locale=locale),
    )
    try:
        minor = value * cur.factor
    except ArithmeticError:  # decimal.Overflow: "1e999999999" is past any context's range
        raise MoneyError(too_much) from None
    if cur.exponent == 0 and read.decimals is not None:
        # "1.500" groups thousands in many locales: a point in a yen amount is never read.
        if read.decimals == 3:
            raise MoneyError(_separator_message(cur, conv))
        raise MoneyError(_no_decimals_message(cur))
    # Digits typed, not the value: "1.250" (one thousand two hundred fifty in many
    # locales) is refused for euros, not read as 1.25.
    if minor != minor.to_integral_value() or (read.decimals or 0) > cur.exponent:
        if cur.exponent == 0:
            raise MoneyError(_no_decimals_message(cur))
        raise MoneyError(
            ngettext(
                "%(code)s amounts have at most %(num)d decimal.",
                "%(code)s amounts have at most %(num)d decimals.",
                cur.exponent,
                code=cur.code,
            )
        )
    if value > MAX_MAJOR_UNITS:
        raise MoneyError(too_much)
    if not PLAIN_NUMBER.fullmatch(cleaned):
        raise MoneyError(_not_a_number_message(conv))
    return int(minor)


def to_major_text(minor: int, code: str) -> str:
    """The amount as a plain number for a form field ("1250.50")."""
    cur = currency(code)
    if cur.exponent == 0:
        return str(minor)
    whole, frac = divmod(minor, cur.factor)
    return f"{whole}.{frac:0{cur.exponent}d}"


def format_money(minor: int, code: str, locale: str = DEFAULT_LOCALE) -> str:
    """The amount as ``locale`` writes it (Babel): "$1,250.50", "CN¥88.88" in English,
    "¥88.88" in Chinese, "¥3,000" (no decimals for yen)."""
    cur = currency(code)
    return format_currency(Decimal(minor).scaleb(-cur.exponent), code, locale=locale)
