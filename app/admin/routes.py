"""The admin area: staff-only pages over the whole platform."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext

from app.audit import platform
from app.moderation.routes import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _month_arg(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if not MONTH.fullmatch(value):
        abort(400, gettext("A month is written YYYY-MM, like 2026-12."))
    return value


@bp.route("/books")
@admin_required
def books():
    """The platform's books per month and currency, from the ledger."""
    start, end = _month_arg("from"), _month_arg("to")
    if start and end and start > end:
        abort(400, gettext("The first month comes after the last."))
    rows = platform.months(start, end)
    by_currency: dict[str, list[platform.Month]] = {}
    for row in rows:
        by_currency.setdefault(row.currency, []).append(row)
    return render_template("admin/books.html", by_currency=by_currency, start=start, end=end)
