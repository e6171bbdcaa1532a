"""`flask ledger check`, `reconcile` and `platform`: auditing the books, for operators and CI."""

import re
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


MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _month(_ctx, param, value: str | None) -> str | None:
    if value is not None and not MONTH.fullmatch(value):
        raise click.BadParameter(f"a month is written YYYY-MM, like 2026-12, not {value!r}")
    return value


@ledger_cli.command("platform")
@click.option("--from", "start", callback=_month, help="The first month, YYYY-MM.")
@click.option("--to", "end", callback=_month, help="The last month, YYYY-MM.")
def platform(start: str | None, end: str | None) -> None:
    """The platform's books per month and currency: charged, refunded, fees earned,
    processing fees (borne, deducted from payouts, on refunded pledges), transfers to
    creators and escrow at the month's end."""
    from app.audit import platform as platform_books
    from app.money import format_money

    if start and end and start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}")
    rows = platform_books.months(start, end)
    if not rows:
        click.echo("No money has moved in that period.")
        return
    columns = (
        ("charged", "charged"),
        ("refunded", "refunded"),
        ("fees earned", "fees_earned"),
        ("processing", "processing_paid"),
        ("from creators", "processing_recovered"),
        ("on refunds", "processing_on_refunds"),
        ("net income", "net_income"),
        ("transfers", "transfers"),
        ("in escrow", "escrow_end"),
    )
    table = [["month", "currency", *(title for title, _ in columns)]]
    for row in rows:
        cells = [format_money(getattr(row, name), row.currency) for _, name in columns]
        table.append([row.month, row.currency, *cells])
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        click.echo(
            "  ".join(
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )


@ledger_cli.command("verify-export")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def verify_export(file) -> None:
    """Check a saved ledger export (a project's ledger.jsonl): every line follows the one
    before, every hash is right and every transaction sums to zero; print the totals by
    account, or the first break and exit 1."""
    from app.ledger import chain
    from app.money import format_money

    result = chain.verify(file)
    for problem in result.problems:
        click.echo(problem)
    if not result.ok:
        sys.exit(1)
    for (currency, account), amount in sorted(result.totals.items()):
        click.echo(f"{account:<22} {format_money(amount, currency):>16}")
    click.echo(f"OK: {result.count} transaction(s), chained and balanced; last hash {result.head}")
