"""`flask ledger check`: the books against the pledges, for operators and CI."""

import sys

import click
from flask.cli import AppGroup

from app.ledger import services

ledger_cli = AppGroup("ledger", help="Check the escrow ledger.")


@ledger_cli.command("check")
@click.option("--project", "project_id", type=int, help="Check one project only.")
def check(project_id: int | None) -> None:
    """Print every mismatch between ledger, pledges and project totals; exit 1 if any."""
    problems = services.check(project_id)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo("Ledger OK: every transaction balances and escrow matches the pledges.")
