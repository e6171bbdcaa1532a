"""The platform's one source of the current time, so tests can move it."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current moment as an aware UTC datetime."""
    return datetime.now(UTC)


def at_insert() -> datetime:
    """Column default for stored timestamps (``default=clock.at_insert``).

    It looks ``now`` up each time a row is inserted, so a clock moved by tests or the campaign
    simulation stamps rows as well; ``default=clock.at_insert`` would keep the function it saw at
    import and stamp real time, so one booking path could disagree with another."""
    return now()
