"""Refusing to run against a database whose schema is not the code's.

A database left at an older migration (a deploy that skipped ``flask db upgrade``, a backup
restored) would otherwise serve pages and run jobs that fail later with raw SQL errors. The
web app answers 503 until the schema matches (and logs why), ``wsgi.py`` refuses to start,
and the CLI's own commands stop with one line; ``flask db ...`` itself is never refused.
A database that cannot be reached is not judged here: its requests get the outage page.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from app.extensions import db

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@functools.cache
def code_heads() -> frozenset[str]:
    """The migration revisions this code expects (one, unless migrations branched)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def schema_problem() -> str | None:
    """One line naming the fix if the database's revision is not the code's; None if it is,
    or if the database cannot be reached just now."""
    try:
        with db.engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except DBAPIError:
        return None
    expected = code_heads()
    if current == expected:
        return None
    if not current:
        return "The database has no schema yet: run `flask db upgrade`."
    return (
        f"The database is at migration {', '.join(sorted(current))} but this code needs "
        f"{', '.join(sorted(expected))}: run `flask db upgrade`."
    )


def require_current_schema(app: Flask) -> None:
    """For ``wsgi.py``: stop the process with the one line if the schema is not current."""
    with app.app_context():
        problem = schema_problem()
    if problem:
        raise SystemExit(problem)


def register(app: Flask, groups) -> None:
    """Check once per process before serving, and before each of the CLI ``groups``."""
    state = {"current": False}

    @app.before_request
    def refuse_stale_schema():
        if state["current"]:
            return None
        problem = schema_problem()
        if problem is None:
            state["current"] = True
            return None
        log.error(problem)
        from app.errors.handlers import render_error

        return render_error(
            503,
            "The site is not ready: its database is older than its code. Operators: "
            "run `flask db upgrade`.",
        )

    for group in groups:  # module-level groups: wrap once, however many apps are built
        if not getattr(group.callback, "checks_schema", False):
            group.callback = _checked(group.callback)


def _checked(callback):
    @with_appcontext
    def check(*args, **kwargs):
        ctx = click.get_current_context()
        command = ctx.command.get_command(ctx, ctx.invoked_subcommand or "")
        # A command that never touches the database says so with ``needs_no_schema = True``.
        if not getattr(command, "needs_no_schema", False):
            problem = schema_problem()
            if problem:
                raise click.ClickException(problem)
        return callback(*args, **kwargs) if callback else None

    check.checks_schema = True
    return check
