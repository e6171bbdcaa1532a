"""One compare-and-set for state moves: the write that decides who won.

A row moves only from a state the mover saw allowed; two writers racing on one row both send
the UPDATE, and the database lets exactly one of them match. The caller learns whether it won
and acts on that (a loser re-reads, or leaves the row to the winner). Services use it inside
the caller's transaction; it never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, update

from app.extensions import db


def move(
    model: type,
    row_id: int,
    allowed: Iterable[Enum] | None,
    to: Enum | None = None,
    *,
    where: Iterable[ColumnElement[bool]] = (),
    **values: Any,
) -> bool:
    """Set ``status`` to ``to`` (and ``values``) on row ``row_id`` of ``model`` if its status
    is one of ``allowed`` (None: any) and every extra ``where`` condition holds; True if this
    call made the change. ORM objects already loaded are not updated: expire or refresh them."""
    conditions = [model.id == row_id, *where]
    if allowed is not None:
        conditions.append(model.status.in_(list(allowed)))
    if to is not None:
        values["status"] = to
    result = db.session.execute(
        update(model)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
