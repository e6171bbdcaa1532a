"""Form helpers shared by the feature packages."""

from __future__ import annotations


def strip(value: str | None) -> str | None:
    """A WTForms filter: surrounding white space is never part of what a user meant."""
    return value.strip() if isinstance(value, str) else value
