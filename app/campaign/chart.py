"""The funding chart: pledged so far against the goal and the deadline, drawn as SVG on the
server by pygal (no JavaScript; the page gives a text alternative and the data table)."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta

import pygal
from flask_babel import format_date, format_datetime, gettext
from pygal.style import Style

from app import clock
from app.campaign.series import Point
from app.templating import format_money

# pygal appends an import hook for its map plugins (pygal.maps.*, unused here) to sys.meta_path;
# it has no find_spec, so every later import that no other finder answers warns
# (ImportWarning). Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f) is not pygal.PluginImportFixer]

CONFIG_SCRIPT = re.compile(rb'<script type="text/javascript">window\.pygal = .*?</script>', re.S)
# Colours from the site's palette, each at least 4.5:1 against white.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2937",
    foreground_strong="#111827",
    foreground_subtle="#4b5563",
    colors=("#1d4ed8", "#15803d", "#b91c1c"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
    tooltip_font_size=13,
    guide_stroke_color="#e5e7eb",
    major_guide_stroke_color="#d1d5db",
)


def funding_svg(
    points: list[Point],
    currency: str,
    goal: int,
    launched_at: datetime | None,
    deadline: datetime | None,
    daily: bool,
) -> bytes:
    """Cumulative pledged (minor units, shown as money) by hour or day, with the goal line from
    launch to deadline and the deadline as a vertical line."""

    def money(value: float) -> str:
        return format_money(int(value), currency)

    def when(value: datetime) -> str:
        return format_date(value, "medium") if daily else format_datetime(value, "short")

    chart = pygal.DateTimeLine(
        style=STYLE,
        js=(),  # no script: the picture is an <img>, readable without JavaScript
        width=720,
        height=320,
        explicit_size=False,
        show_dots=True,
        dots_size=2.5,
        fill=False,
        legend_at_bottom=True,
        truncate_legend=-1,
        x_label_rotation=0,
        margin_right=48,
        x_value_formatter=when,
        value_formatter=money,
        include_x_axis=True,
        range=(0, max([goal, *(p.total for p in points)]) * 11 // 10 or 100),
        no_data_text=gettext("No pledges yet"),
    )
    period = timedelta(days=1) if daily else timedelta(hours=1)
    # Each total is drawn at the end of its period (no later than now or the deadline), from
    # zero at launch.
    now = min(clock.now(), deadline) if deadline else clock.now()
    start = launched_at or (points[0].start if points else None)
    line = ([(start, 0)] if start else []) + [
        (max(min(p.start + period, now), start), p.total) for p in points
    ]
    if start and deadline:
        chart.x_labels = labels(start, deadline)
    chart.add(gettext("Pledged"), line)
    if start and deadline:
        chart.add(gettext("Goal"), [(start, goal), (deadline, goal)], show_dots=False)
        top = max([goal, *(p.total for p in points)])
        chart.add(gettext("Deadline"), [(deadline, 0), (deadline, top)], show_dots=False)
    # pygal writes its configuration for its optional tooltip script into the picture; with no
    # script (js=()) it is dead weight, and an image has no business carrying code.
    return CONFIG_SCRIPT.sub(b"", chart.render(), count=1)


def labels(start: datetime, end: datetime, count: int = 5) -> list[datetime]:
    """``count`` evenly spaced moments from launch to deadline, both included."""
    step = (end - start) / (count - 1)
    return [start + step * i for i in range(count)]
