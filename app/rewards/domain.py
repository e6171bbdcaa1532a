"""Shipping by destination, in plain Python: where a tier ships and what it costs there.

A tier is digital (no rules: nothing ships) or ships to its rules. A rule's destination is a
preset region or an ISO 3166-1 alpha-2 country code:

- ``domestic``: the project's own country;
- ``europe``: the countries of ``EUROPE``;
- ``world``: anywhere a more precise rule does not name.

A backer's country is resolved by the most precise rule: its own country's rule first, then
domestic, then Europe, then the world. No match: the tier does not ship there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.i18n import N_

DOMESTIC = "domestic"
EUROPE_REGION = "europe"
WORLD = "world"
REGIONS = (DOMESTIC, EUROPE_REGION, WORLD)

REGION_LABELS = {
    DOMESTIC: N_("Domestic (the project's country)"),
    EUROPE_REGION: N_("Europe"),
    WORLD: N_("Rest of the world"),
}

# Europe as the UN's M49 region "Europe", plus Cyprus (an EU member that M49 counts in Asia).
EUROPE = frozenset(
    {
        "AD",
        "AL",
        "AT",
        "AX",
        "BA",
        "BE",
        "BG",
        "BY",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FO",
        "FR",
        "GB",
        "GG",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IM",
        "IS",
        "IT",
        "JE",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MD",
        "ME",
        "MK",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "RS",
        "RU",
        "SE",
        "SI",
        "SJ",
        "SK",
        "SM",
        "UA",
        "VA",
    }
)

# The most rows a tier's form offers (the form needs no script).
MAX_RULES = 5


@dataclass(frozen=True)
class Rule:
    destination: str  # a region of REGIONS or an upper-case country code
    fee: int  # minor units of the project's currency, >= 0


def is_region(destination: str) -> bool:
    return destination in REGIONS


def fee_to(rules: Iterable[Rule], country: str, home: str | None) -> int | None:
    """The fee to ship to ``country`` (alpha-2), or None when the rules do not ship there.

    ``home`` is the project's country (None: unknown, so no domestic rule applies)."""
    by_destination = {rule.destination: rule.fee for rule in rules}
    country = country.upper()
    if country in by_destination:
        return by_destination[country]
    if home and country == home.upper() and DOMESTIC in by_destination:
        return by_destination[DOMESTIC]
    if country in EUROPE and EUROPE_REGION in by_destination:
        return by_destination[EUROPE_REGION]
    return by_destination.get(WORLD)


def ships_to(rules: Iterable[Rule], country: str, home: str | None) -> bool:
    return fee_to(rules, country, home) is not None


def countries_shipped(
    rules: Iterable[Rule], every_country: Iterable[str], home: str | None
) -> dict[str, int]:
    """Each country of ``every_country`` the rules ship to, with its fee."""
    rules = tuple(rules)
    fees = {code: fee_to(rules, code, home) for code in every_country}
    return {code: fee for code, fee in fees.items() if fee is not None}


def rule_problem(rules: Iterable[Rule], known_countries: Iterable[str]) -> str | None:
    """Why these rules cannot be saved (a catalogue entry), or None.

    ``known_countries`` are the valid alpha-2 codes."""
    rules = tuple(rules)
    known = frozenset(known_countries)
    if not rules:
        return N_("A reward that ships needs at least one destination.")
    seen: set[str] = set()
    for rule in rules:
        if not is_region(rule.destination) and rule.destination not in known:
            return N_("Choose a destination from the list.")
        if rule.fee < 0:
            return N_("A shipping fee cannot be negative.")
        if rule.destination in seen:
            return N_("Each destination can be listed once.")
        seen.add(rule.destination)
    return None
