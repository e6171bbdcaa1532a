"""Jinja filters: money, Markdown, moments in a time zone, time left, progress."""

from __future__ import annotations

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


def duration_text(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 2:
        return f"{days} days"
    if days == 1:
        return f"1 day {hours} hours" if hours else "1 day"
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{max(minutes, 1)} minute{'s' if minutes != 1 else ''}"


def time_left(deadline: datetime | None) -> str:
    if deadline is None:
        return ""
    remaining = (deadline - clock.now()).total_seconds()
    return "ended" if remaining <= 0 else duration_text(remaining) + " to go"


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
