"""Separators in typed amounts, for every supported currency: read as meant, or refused.

The reader's convention ("en", and "zh_Hans_CN", which writes numbers the same way) is a
point for decimals and a comma only between groups of three digits. Whatever does not fit
that convention and the currency's minor unit is refused with a message saying what to
write: "45,50" is never 4550, "1.250,50" never 1.25, "1.500" yen never 1 or 1500.
"""

import pytest

from app.money import (
    CURRENCIES,
    NUMBER_CONVENTIONS,
    MoneyError,
    number_convention,
    parse_amount,
)

COMMA = "Use a point for decimals (45.50); a comma may only separate thousands, as in 1,250.50."
YEN = "JPY amounts have no decimals: write 1500 or 1,500."
YEN_DECIMALS = "JPY amounts have no decimals."
SPACES = "Write the amount without spaces, as in 1250.50 or 1,250.50."
YEN_SPACES = "Write the amount without spaces, as in 1500 or 1,500."
NOT_A_NUMBER = "Enter the amount as a number, like 25 or 25.50."


def decimals(code: str) -> str:
    return f"{code} amounts have at most 2 decimals."


CENT_CURRENCIES = ["USD", "EUR", "GBP", "CNY"]
LOCALES = sorted(NUMBER_CONVENTIONS)


def test_every_supported_currency_is_covered():
    assert set(CENT_CURRENCIES) | {"JPY"} == set(CURRENCIES)
    assert {code for code, c in CURRENCIES.items() if c.exponent == 2} == set(CENT_CURRENCIES)


# fmt: off
CENTS_ACCEPTED = [
    # typed              minor units
    ("45.50",            4550),
    ("45.5",             4550),
    ("45",               4500),
    ("45.",              4500),
    (".50",              50),
    ("1,250",            125_000),
    ("1,250.50",         125_050),
    ("12,345,678.9",     1_234_567_890),
    ("100,000,000",      10_000_000_000),
    ("999",              99_900),
    ("1000",             100_000),
    ("  1,250.50  ",     125_050),
    ("+1,250",           125_000),
]

CENTS_REFUSED = [
    # typed              message (CODE stands for the currency's code)
    ("45,50",            COMMA),   # the bug: was read as 4,550.00
    ("45,5",             COMMA),
    ("0,99",             COMMA),
    ("1,2345",           COMMA),
    ("12,34,567",        COMMA),   # Indian lakh grouping: not this convention
    ("1234,567",         COMMA),   # a first group longer than three digits
    (",50",              COMMA),
    ("50,",              COMMA),
    ("1,,000",           COMMA),
    (",",                COMMA),
    ("1,000,5",          COMMA),
    ("1.250,50",         COMMA),   # continental order, both separators
    ("1.250,5",          COMMA),
    ("12.345.678,90",    COMMA),
    ("1.250.000",        COMMA),   # continental grouping, points only
    ("1,250.50,00",      COMMA),
    ("-45,50",           COMMA),
    (" 1 250",           SPACES),
    ("1 250.50",         SPACES),
    ("1\u00a0250,50",    SPACES),  # no-break space, as French writes it
    ("1\u202f250",       SPACES),  # narrow no-break space
    ("1\t250",           SPACES),
    ("25.505",           "CODE amounts have at most 2 decimals."),
    ("1.250",            "CODE amounts have at most 2 decimals."),  # not 1.25: German 1250
    ("10.500",           "CODE amounts have at most 2 decimals."),
    ("1,250.505",        "CODE amounts have at most 2 decimals."),
    ("1'250.50",         NOT_A_NUMBER),  # Swiss grouping
    ("1,5e3",            NOT_A_NUMBER),
    ("45\u066b50",       NOT_A_NUMBER),  # Arabic decimal separator
    ("45\uff0c50",       NOT_A_NUMBER),  # full-width comma
]

YEN_ACCEPTED = [
    ("1500",             1500),
    ("1,500",            1500),
    ("12,345,678",       12_345_678),
    ("100,000,000",      100_000_000),
    ("¥1,500",           1500),
    (" ¥ 3,000 ",        3000),
]

YEN_REFUSED = [
    ("1.500",            YEN),  # 1500 in many European locales, 1.5 in English
    ("12.000",           YEN),
    ("1,500.000",        YEN),
    ("1.500.000",        YEN),
    ("1.500,00",         YEN),
    ("1,50",             YEN),
    ("15,00",            YEN),
    (",500",             YEN),
    ("1500,",            YEN),
    ("10.5",             YEN_DECIMALS),
    ("1500.00",          YEN_DECIMALS),
    ("1500.",            YEN_DECIMALS),
    ("1,500.5",          YEN_DECIMALS),
    ("1 500",            YEN_SPACES),
]
# fmt: on


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", CENT_CURRENCIES)
@pytest.mark.parametrize(("text", "minor"), CENTS_ACCEPTED)
def test_cents_currencies_accept(text, minor, code, locale):
    assert parse_amount(text, code, locale=locale) == minor


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", CENT_CURRENCIES)
@pytest.mark.parametrize(("text", "message"), CENTS_REFUSED)
def test_cents_currencies_refuse(text, message, code, locale):
    with pytest.raises(MoneyError) as refused:
        parse_amount(text, code, locale=locale)
    assert str(refused.value) == message.replace("CODE", code)


@pytest.mark.parametrize("code", CENT_CURRENCIES)
def test_symbol_prefix_then_separators(code):
    symbol = CURRENCIES[code].symbol
    assert parse_amount(f"{symbol}1,250.50", code) == 125_050
    assert parse_amount(f" {symbol} 45.50 ", code) == 4550
    with pytest.raises(MoneyError) as refused:
        parse_amount(f"{symbol}45,50", code)
    assert str(refused.value) == COMMA


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("text", "minor"), YEN_ACCEPTED)
def test_yen_accepts(text, minor, locale):
    assert parse_amount(text, "JPY", locale=locale) == minor


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("text", "message"), YEN_REFUSED)
def test_yen_refuses(text, message, locale):
    with pytest.raises(MoneyError) as refused:
        parse_amount(text, "JPY", locale=locale)
    assert str(refused.value) == message


@pytest.mark.parametrize("code", [*CENT_CURRENCIES, "JPY"])
def test_zero_shipping_with_separators(code):
    """allow_zero (shipping fees) reads separators the same way."""
    assert parse_amount("0", code, allow_zero=True) == 0
    assert parse_amount("1,000", code, allow_zero=True) == 1000 * CURRENCIES[code].factor
    with pytest.raises(MoneyError, match=r"comma may only separate thousands|write 1500"):
        parse_amount("7,50", code, allow_zero=True)


@pytest.mark.parametrize(
    "typed",
    ["1,000.50", "1.000,50", "1_000", ",,", "1,,", "9" * 5000 + ",5", "1," + "000," * 2000 + "5"],
)
def test_long_or_odd_separator_strings_answer_with_a_message(typed):
    """What the form fuzzing sends: always a MoneyError or a number, never anything else."""
    try:
        result = parse_amount(typed, "USD")
    except MoneyError as error:
        assert str(error)
    else:
        assert isinstance(result, int)


# ---- the reader's locale ------------------------------------------------------------------


def test_locales_known_today_write_point_decimals_and_comma_groups():
    assert set(NUMBER_CONVENTIONS) == {"en", "zh_Hans_CN"}
    for convention in NUMBER_CONVENTIONS.values():
        assert (convention.decimal, convention.group) == (".", ",")
        assert convention.write("1250", "50") == "1,250.50"
        assert convention.write("12345678") == "12,345,678"


@pytest.mark.parametrize(
    ("locale", "known_as"),
    [("en", "en"), ("en_GB", "en"), ("en-US", "en"), ("zh_Hans_CN", "zh_Hans_CN")],
)
def test_locale_lookup_falls_back_to_the_language(locale, known_as):
    assert number_convention(locale) is NUMBER_CONVENTIONS[known_as]


def test_unknown_locale_is_a_programming_error_not_a_message():
    with pytest.raises(LookupError):
        parse_amount("45.50", "EUR", locale="de_DE")
    with pytest.raises(LookupError):
        number_convention("fr")


def test_locale_is_keyword_only_and_defaults_to_english():
    assert parse_amount("1,250.50", "GBP") == parse_amount("1,250.50", "GBP", locale="en")
    with pytest.raises(TypeError):
        parse_amount("1", "GBP", False, "en")  # type: ignore[misc]
