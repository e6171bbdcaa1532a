"""`flask ledger check` and `flask ledger reconcile`: auditing the books, for operators and CI."""

import sys

import click
from flask.cli import AppGroup

from app.audit import books

ledger_cli = AppGroup("ledger", help="Check the escrow ledger.")


@ledger_cli.command("check")
@click.option("--project", "project_id", type=int, help="Check one project only.")
def check(project_id: int | None) -> None:
    """Print every mismatch between ledger, pledges and project totals; exit 1 if any."""
    problems = books.check(project_id)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo("Ledger OK: every transaction balances and escrow matches the pledges.")


@ledger_cli.command("reconcile")
@click.option("--project", "project_id", type=int, required=True, help="The project to reconcile.")
def reconcile(project_id: int) -> None:
    """Compare one project's ledger and rows with Stripe; print every difference, exit 1 if any."""
    from app.audit import reconcile as reconciling
    from app.payments.gateway import GatewayError

    try:
        result = reconciling.reconcile(project_id)
    except reconciling.UnknownProject as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    except GatewayError as error:
        click.echo(f"Stripe could not be asked: {error.message}", err=True)
        sys.exit(2)
    for difference in result.differences:
        click.echo(difference)
    if not result.ok:
        click.echo(f"{len(result.differences)} difference(s) found.", err=True)
        sys.exit(1)
    click.echo(result.summary())
