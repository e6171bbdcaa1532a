"""Money parsing and display: integer minor units, never floats."""

import pytest

from app.money import MoneyError, format_money, parse_amount, to_major_text


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("25", "USD", 2500),
        ("25.5", "USD", 2550),
        ("1,250.50", "EUR", 125050),
        ("0.01", "GBP", 1),
        ("$7", "USD", 700),
        ("3000", "JPY", 3000),
        ("100000000", "USD", 10_000_000_000),
        ("88.88", "CNY", 8888),
        ("12,345,678.9", "GBP", 1_234_567_890),
        ("1,500", "JPY", 1500),
    ],
)
def test_parse(text, code, minor):
    assert parse_amount(text, code) == minor


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("", "USD", "Enter an amount."),
        ("abc", "USD", "Enter the amount as a number"),
        ("NaN", "USD", "Enter the amount as a number"),
        ("Infinity", "USD", "Enter the amount as a number"),
        ("0", "USD", "more than zero"),
        ("-5", "USD", "more than zero"),
        ("10.001", "USD", "USD amounts have at most 2 decimals."),
        ("10.5", "JPY", "JPY amounts have no decimals."),
        ("10.500", "USD", "USD amounts have at most 2 decimals."),  # digits typed, not value
        ("45,50", "GBP", "Use a point for decimals"),  # was read as 4550.00
        ("1.250,50", "EUR", "Use a point for decimals"),
        ("1.500", "JPY", "JPY amounts have no decimals: write 1500 or 1,500."),
        ("1 250", "USD", "Write the amount without spaces"),
        ("100000000.01", "USD", "at most $100,000,000.00"),
        ("1e400", "USD", "at most"),
        ("5", "XYZ", "Unknown currency"),
    ],
)
def test_parse_refuses(text, code, message):
    with pytest.raises(MoneyError, match=message.replace("$", r"\$").replace(".", r"\.")):
        parse_amount(text, code)


def test_zero_allowed_only_when_asked():
    assert parse_amount("0", "USD", allow_zero=True) == 0
    with pytest.raises(MoneyError, match="cannot be negative"):
        parse_amount("-1", "USD", allow_zero=True)


@pytest.mark.parametrize(
    ("minor", "code", "text", "plain"),
    [
        (125050, "USD", "$1,250.50", "1250.50"),
        (1, "EUR", "€0.01", "0.01"),
        (3000, "JPY", "¥3,000", "3000"),
        (8888, "CNY", "CN¥88.88", "88.88"),
        (-250, "GBP", "-£2.50", "-3.50"),
    ],
)
def test_format(minor, code, text, plain):
    assert format_money(minor, code) == text
    if minor >= 0:
        assert to_major_text(minor, code) == plain
        assert parse_amount(plain, code) == minor
