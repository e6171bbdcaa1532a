"""Jinja filters: money, Markdown, moments in a time zone, time left, progress.

Money, numbers and dates are written in the reader's locale (``app.i18n.web.current``)
through Babel; counts of time go through ngettext ("1 minute", "2 minutes").
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent
from flask import Flask, current_app, g, has_app_context, has_request_context
from flask_babel import get_translations, gettext, ngettext, pgettext
from flask_login import current_user

from app import clock, money
from app.i18n import N_
from app.i18n import web as i18n_web
from app.pledges.domain import PledgeStatus
from app.text import render_markdown

# How a day is written before the time: "Sat 12 Dec 2026" (as the site always wrote it),
# "2026年12月12日周六"; other locales take Babel's skeleton.
DATE_PATTERNS = {"en": "EEE d MMM y", "zh_Hans_CN": "y年M月d日EEE"}
MONTH_PATTERNS = {"en": "MMMM y", "zh_Hans_CN": "y年M月"}
SHORT_MONTH_PATTERNS = {"en": "MMM y", "zh_Hans_CN": "y年M月"}


def site_zone() -> str:
    return current_app.config["SITE_TIMEZONE"]


def reader_zone() -> str:
    """The zone the reader chose in their settings (an e-mail's recipient, set with
    ``for_reader``, or the signed-in user), else the site's."""
    if has_app_context() and (zone := g.get("reader_zone")):
        return zone
    if has_request_context() and current_user and getattr(current_user, "timezone", None):
        return current_user.timezone
    return site_zone()


@contextmanager
def for_reader(zone: str | None) -> Iterator[None]:
    """Moments written inside are in ``zone`` (None: the site's): an e-mail's recipient's."""
    before = g.get("reader_zone")
    g.reader_zone = zone or site_zone()
    try:
        yield
    finally:
        g.reader_zone = before


def _zone_info(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):  # a zone the tz database no longer has
        return ZoneInfo(site_zone())


def in_zone(moment: datetime | None, zone: str | None = None) -> str:
    """ "Sat 12 Dec 2026, 18:00 CET" in the named zone (the reader's by default), the day as
    the reader's locale writes it; the zone's own abbreviation, as the tz database has it."""
    if moment is None:
        return ""
    zone = zone or reader_zone()
    local = moment.astimezone(_zone_info(zone))
    locale = i18n_web.current()
    pattern = DATE_PATTERNS.get(locale)
    day = (
        format_date(local, pattern, locale=locale)
        if pattern
        else format_skeleton("yMMMEd", local, locale=locale)
    )
    return gettext(
        "%(day)s, %(time)s %(zone)s",
        day=day,
        time=local.strftime("%H:%M"),
        zone=local.tzname() or zone,
    )


def month(day, short: bool = False) -> str:
    """ "March 2027" ("Mar 2027" short), "2027年3月": an estimated delivery."""
    locale = i18n_web.current()
    patterns = SHORT_MONTH_PATTERNS if short else MONTH_PATTERNS
    return format_date(day, patterns.get(locale, "MMMM y"), locale=locale)


def _days(n: int) -> str:
    return ngettext("%(num)d day", "%(num)d days", n)


def _hours(n: int) -> str:
    return ngettext("%(num)d hour", "%(num)d hours", n)


def _minutes(n: int) -> str:
    return ngettext("%(num)d minute", "%(num)d minutes", n)


def duration_text(seconds: float) -> str:
    """Whole units, rounded down: "3 days", "1 day 5 hours", "1 hour", "2 minutes"."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 2:
        return _days(days)
    if days == 1:
        if hours:
            return gettext("%(days)s %(hours)s", days=_days(1), hours=_hours(hours))
        return _days(1)
    if hours:
        return _hours(hours)
    return _minutes(max(minutes, 1))


def time_left(deadline: datetime | None) -> str:
    """A countdown counts what is left up to the next unit, as a calendar does: a 21-day
    project shows "21 days to go" right after launch (not 20), and "1 minute" at the end: the
    smallest unit shown is rounded up."""
    if deadline is None:
        return ""
    remaining = (deadline - clock.now()).total_seconds()
    if remaining <= 0:
        return gettext("ended")
    if remaining > 2 * 86400:
        return gettext("%(duration)s to go", duration=_days(math.ceil(remaining / 86400)))
    unit = 3600 if remaining > 3600 else 60  # the smallest unit the text will show
    return gettext("%(duration)s to go", duration=duration_text(math.ceil(remaining / unit) * unit))


def waited(since: datetime | None) -> str:
    return "" if since is None else duration_text((clock.now() - since).total_seconds())


def percent(part: int, whole: int) -> int:
    """Whole percent, rounded down, from integers (no floats near money)."""
    return 0 if whole <= 0 else part * 100 // whole


def number(value: int) -> str:
    """A count as the reader's locale groups it: "12,345"."""
    return format_decimal(value, locale=i18n_web.current())


def percent_text(value: int) -> str:
    """A whole percent as the locale writes it: "45%"."""
    return format_percent(value / 100, locale=i18n_web.current())


def action_label(action: str) -> str:
    """An audit log action (ProjectEvent.action: the Action's name in lower case) as a verb in
    the reader's language: "<strong>approved</strong> by Mo"."""
    labels = {
        "submit": pgettext("audit log", "submitted"),
        "request_changes": pgettext("audit log", "changes requested"),
        "approve": pgettext("audit log", "approved"),
        "reject": pgettext("audit log", "rejected"),
        "launch": pgettext("audit log", "launched"),
        "cancel": pgettext("audit log", "cancelled"),
        "suspend": pgettext("audit log", "suspended"),
        "dismiss_reports": pgettext("audit log", "reports dismissed"),
        "hide_comment": pgettext("audit log", "comment hidden"),
        "dismiss_comment_reports": pgettext("audit log", "reports of a comment dismissed"),
        "remove_update": pgettext("audit log", "update removed"),
        "dismiss_update_reports": pgettext("audit log", "reports of an update dismissed"),
        "claim_for_settlement": pgettext("audit log", "claimed for settlement"),
        "mark_funded": pgettext("audit log", "marked funded"),
        "mark_failed": pgettext("audit log", "marked failed"),
        "mark_paid_out": pgettext("audit log", "marked paid out"),
    }
    return labels.get(action) or action.replace("_", " ")


def pledge_status_label(value: str) -> str:
    try:
        return PledgeStatus(value).label
    except ValueError:
        return value.replace("_", " ")


def country_name(code: str | None) -> str:
    """ "DE" as the reader's locale names it: "Germany", "德国"."""
    if not code:
        return ""
    return Locale.parse(i18n_web.current()).territories.get(code.upper(), code)


# Reasons stored in English on rows by code this module does not own (settlement, the
# checkout's sweeps), marked here for the catalogue; the others are marked where written.
STORED_REASONS = (
    N_("The project did not reach its goal."),
    N_("The creator cancelled the project."),
    N_("The project was suspended."),
    N_("The payment was not completed in time."),
    N_("The payment could not start."),
    N_("The payment was cancelled."),
    N_("The card was declined."),
    N_("The creator has not finished Stripe onboarding."),
)


def stored_text(text: str | None) -> str:
    """A reason stored on a row (in English, the catalogue's source text) in the reader's
    language when the catalogue knows it, else as stored; never %-formatted."""
    return get_translations().ugettext(text) if text else ""


def format_money(minor: int, code: str) -> str:
    return money.format_money(minor, code, locale=i18n_web.current())


def addon_line(line, code: str) -> str:
    """One add-on line of a pledge: "2 \N{MULTIPLICATION SIGN} Playmat ($50.00 + $18.00
    shipping)"; a line is a PledgeAddon or a (title, quantity, amount, shipping) tuple (the
    mails' facts)."""
    if isinstance(line, tuple):
        title, quantity, amount, shipping = line
    else:
        title, quantity, amount, shipping = (
            line.addon.title, line.quantity, line.amount, line.shipping_fee
        )  # fmt: skip
    if shipping:
        return gettext(
            "%(quantity)s \N{MULTIPLICATION SIGN} %(title)s (%(amount)s + %(shipping)s shipping)",
            quantity=quantity, title=title, amount=format_money(amount, code),
            shipping=format_money(shipping, code),
        )  # fmt: skip
    return gettext(
        "%(quantity)s \N{MULTIPLICATION SIGN} %(title)s (%(amount)s)",
        quantity=quantity, title=title, amount=format_money(amount, code),
    )  # fmt: skip


def register(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(addon_line, "addon_line")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(in_zone, "in_zone")
    app.add_template_filter(month, "month")
    app.add_template_filter(time_left, "time_left")
    app.add_template_filter(waited, "waited")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(number, "number")
    app.add_template_filter(percent_text, "percent_text")
    app.add_template_filter(lambda code: money.currency(code).factor, "currency_factor")
    app.add_template_filter(action_label, "action_label")
    app.add_template_filter(pledge_status_label, "pledge_status_label")
    app.add_template_filter(country_name, "country_name")
    app.add_template_filter(stored_text, "stored_text")
