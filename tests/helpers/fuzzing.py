"""Hypothesis settings and values for fuzzing forms: boundary strings and anything at all."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


BOUNDARY = [
    *("", " ", "\t", "\n", "\r\n", "0", "-0", "00", "+0", "1", "-1", "+1", "1.", ".5", "."),
    *("0.01", "0.001", "0.005", "10.001", "1." + "0" * 60 + "1", "0." + "0" * 80 + "1"),
    *("99999999.99", "100000000", "100000000.01", "1" + "0" * 30, "9" * 400, "9" * 5000),
    *("-" + "9" * 50, "2147483648", "-2147483649", "9223372036854775808", "18446744073709551616"),
    *("1e5", "1E400", "1e999999999", "-1e999999999", "1e-999999999", "0e0"),
    *("NaN", "nan", "-NaN", "sNaN", "Infinity", "-inf", "inf", "1.5", "1/2", "½", "0x1F"),
    *("1,000.50", "1.000,50", "1_000", ",,", "$25", "$ 25", "€25", "25$", "¥", "£-5"),
    *("٣", "١٢٣", "\uff11\uff12", "²", "Ⅻ", "\U0001d7d7", "৫", "true", "false", "null"),
    *("None", "[]", "{}"),
    *("2030-13", "2030-00", "0000-01", "9999-12", "10000-01", "2030-1", "-2030-01", "2030-01-01"),
    *("US", "us", "XX", "ZZZ", "FR", "y", "on", "off", "\x00", "a\x00b", "\x7f", "\x1b[31m"),
    *("\u202e", "\u200b", "\ufeff", "\U0010ffff", "\u0130" * 80, "ß" * 81, "x" * 81, "x" * 161),
    *("x" * 2001, "x" * 50_001, " " * 100, "<script>alert(1)</script>", "{{7*7}}", "%s%n"),
    *("' OR 1=1 --", "../../etc/passwd", "a@b", "@", "a@example.com", "A@EXAMPLE.COM "),
]


def values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BOUNDARY),
        st.text(max_size=40),  # any code point but surrogates: controls, NUL, RTL, emoji
        st.integers().map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.floats().map(repr),
        st.builds(
            lambda ch, n: ch * n,
            st.sampled_from(["x", "9", "é", "\x01", " ", "\U0001d54f", "\u0130"]),
            st.integers(0, 70_000),
        ),
    )
