"""Countries for shipping: ISO 3166-1 alpha-2 codes, named in the reader's language from
Babel's locale data."""

from __future__ import annotations

from functools import cache

import pycountry
from babel import Locale


@cache
def codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def named(locale: str) -> tuple[tuple[str, str], ...]:
    """Every (code, name), sorted by name in ``locale``."""
    names = Locale.parse(locale).territories
    pairs = [(c.alpha_2, names.get(c.alpha_2, c.name)) for c in pycountry.countries]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


def name(code: str, locale: str) -> str:
    return dict(named(locale)).get(code, code)
