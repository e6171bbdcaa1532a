"""A database whose migration revision is not the code's head: the site, the server and the
CLI refuse to run with one line naming `flask db upgrade` (issue 21.4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.schema import code_heads

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stale(tmp_path, test_config):
    """A fresh SQLite database, migrated to head and then one migration back."""
    url = f"sqlite:///{tmp_path / 'stale.sqlite3'}"
    app = create_app(
        {**test_config, "SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade()
        downgrade(revision="-1")
        db.engine.dispose()
    return app, url


def test_the_site_answers_503_and_names_the_fix(stale):
    app, _ = stale
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "its database is older than its code. Operators: run `flask db upgrade`." in (
        response.get_data(as_text=True)
    )


def test_cli_commands_refuse_with_one_line_but_flask_db_upgrade_runs(stale):
    app, _ = stale
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["ledger", "check"])
    assert refused.exit_code == 1
    (head,) = code_heads()
    assert refused.output.strip().splitlines() == [
        f"Error: The database is at migration {_previous(app)} but this code needs {head}: "
        "run `flask db upgrade`."
    ]
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    checked = runner.invoke(args=["ledger", "check"])
    assert checked.exit_code == 0, checked.output
    assert app.test_client().get("/").status_code == 200


def test_commands_that_need_no_database_run_before_the_first_migration(tmp_path, test_config):
    import requests

    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    no_stripe = "http://127.0.0.1:9"  # nothing listens: the command gets that far, no further
    app = create_app(
        {**test_config, "SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url},
        instance_path=str(tmp_path),
    )
    app.config["STRIPE_API_BASE"] = no_stripe
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["ledger", "check"])
    assert refused.output.strip() == (
        "Error: The database has no schema yet: run `flask db upgrade`."
    )
    help_text = runner.invoke(args=["payments", "register-webhook", "--help"])
    assert help_text.exit_code == 0
    # Goes on to call the (absent) fake Stripe without looking at the database.
    done = runner.invoke(args=["payments", "register-webhook", "http://127.0.0.1:1/hook"])
    assert "flask db upgrade" not in done.output
    assert isinstance(done.exception, requests.ConnectionError)


def test_the_server_refuses_to_start(stale, tmp_path):
    _, url = stale
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x" * 32}
    env.pop("FLASK_RUN_FROM_CLI", None)
    started = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert started.returncode == 1
    assert started.stderr.strip().endswith("run `flask db upgrade`.")


def _previous(app) -> str:
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        (revision,) = MigrationContext.configure(conn).get_current_heads()
    return revision
