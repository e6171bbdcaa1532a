"""The platform's one source of the current time, so tests can move it."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current moment as an aware UTC datetime."""
    return datetime.now(UTC)
