"""Reading pledges' add-on lines in SQL, for the files creators download."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, cast, func, literal, select

from app.addons.models import Addon, PledgeAddon


def lines_text(pledge_id: ColumnElement[int]) -> ColumnElement[str]:
    """A pledge's add-ons as one cell, each as quantity, multiplication sign and title,
    "; " between them ("2 \N{MULTIPLICATION SIGN} Extra deck"; NULL: none), as a scalar
    subquery on ``pledge_id`` (a column of the outer query)."""
    times = literal(" \N{MULTIPLICATION SIGN} ", String)
    line = cast(PledgeAddon.quantity, String) + times + Addon.title
    return (
        select(func.aggregate_strings(line, "; "))
        .select_from(PledgeAddon)
        .join(Addon, Addon.id == PledgeAddon.addon_id)
        .where(PledgeAddon.pledge_id == pledge_id)
        .scalar_subquery()
    )
