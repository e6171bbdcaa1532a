"""Where a tier ships and for what fee, in plain Python (app.rewards.domain)."""

import pytest

from app.rewards.domain import (
    EUROPE,
    Rule,
    countries_shipped,
    fee_to,
    rule_problem,
)

KNOWN = {"US", "FR", "DE", "GB", "JP", "BR", "CA", "CH"}
ALL = (Rule("domestic", 800), Rule("europe", 1400), Rule("world", 2000), Rule("FR", 900))


@pytest.mark.parametrize(
    ("country", "fee"),
    [
        ("FR", 900),  # its own rule beats Europe
        ("fr", 900),
        ("US", 800),  # domestic
        ("DE", 1400),  # Europe
        ("CH", 1400),  # Europe, not the EU
        ("BR", 2000),  # the rest of the world
    ],
)
def test_the_most_precise_rule_wins(country, fee):
    assert fee_to(ALL, country, "US") == fee


def test_domestic_beats_europe_for_a_european_project():
    rules = (Rule("domestic", 500), Rule("europe", 1200))
    assert fee_to(rules, "DE", "DE") == 500
    assert fee_to(rules, "FR", "DE") == 1200


def test_no_match_does_not_ship():
    rules = (Rule("domestic", 500), Rule("europe", 1200))
    assert fee_to(rules, "BR", "US") is None
    assert fee_to(rules, "US", None) is None  # no project country: no domestic
    assert fee_to((), "US", "US") is None  # digital


def test_countries_shipped_lists_each_with_its_fee():
    rules = (Rule("domestic", 500), Rule("JP", 700))
    assert countries_shipped(rules, KNOWN, "US") == {"US": 500, "JP": 700}


def test_europe_is_a_fixed_list_of_codes():
    assert {"FR", "DE", "GB", "CH", "NO", "CY"} <= EUROPE
    assert not {"US", "JP", "BR", "TR"} & EUROPE


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ((), "A reward that ships needs at least one destination."),
        ((Rule("world", 1), Rule("world", 2)), "Each destination can be listed once."),
        ((Rule("XX", 1),), "Choose a destination from the list."),
        ((Rule("world", -1),), "A shipping fee cannot be negative."),
        ((Rule("world", 0), Rule("FR", 100), Rule("europe", 0)), None),
    ],
)
def test_rule_problems(rules, problem):
    assert rule_problem(rules, KNOWN) == problem
