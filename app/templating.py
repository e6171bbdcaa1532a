"""Jinja filters: money, Markdown, moments in a time zone, time left, progress."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from app import clock, money
from app.text import render_markdown


def in_zone(moment: datetime | None, zone: str = "UTC") -> str:
    """ "Sat 12 Dec 2026, 18:00 CET" in the named zone."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%a %-d %b %Y, %H:%M ") + (local.tzname() or zone)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def duration_text(seconds: float) -> str:
    """Whole units, rounded down: "3 days", "1 day 5 hours", "1 hour", "2 minutes"."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 2:
        return _plural(days, "day")
    if days == 1:
        return "1 day " + _plural(hours, "hour") if hours else "1 day"
    if hours:
        return _plural(hours, "hour")
    return _plural(max(minutes, 1), "minute")


def time_left(deadline: datetime | None) -> str:
    """A countdown counts what is left up to the next unit, as a calendar does: a 21-day
    project shows "21 days to go" right after launch (not 20), and "1 minute" at the end: the
    smallest unit shown is rounded up."""
    if deadline is None:
        return ""
    remaining = (deadline - clock.now()).total_seconds()
    if remaining <= 0:
        return "ended"
    if remaining > 2 * 86400:
        return _plural(math.ceil(remaining / 86400), "day") + " to go"
    unit = 3600 if remaining > 3600 else 60  # the smallest unit the text will show
    return duration_text(math.ceil(remaining / unit) * unit) + " to go"


def waited(since: datetime | None) -> str:
    return "" if since is None else duration_text((clock.now() - since).total_seconds())


def percent(part: int, whole: int) -> int:
    """Whole percent, rounded down, from integers (no floats near money)."""
    return 0 if whole <= 0 else part * 100 // whole


def register(app: Flask) -> None:
    app.add_template_filter(lambda minor, code: money.format_money(minor, code), "money")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(in_zone, "in_zone")
    app.add_template_filter(time_left, "time_left")
    app.add_template_filter(waited, "waited")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(lambda code: money.currency(code).factor, "currency_factor")
