"""`flask demo seed`: fill a local site with demo people, projects and pledges."""

import click
from flask import current_app
from flask.cli import AppGroup

from app.accounts.services import AccountError
from app.demo import pledging
from app.demo import seed as demo
from app.demo.data import BACKERS
from app.extensions import db
from app.money import format_money

demo_cli = AppGroup("demo", help="Demo data for a locally-run site.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create demo accounts, projects and pledges (once: a second run changes nothing)."""
    existing = demo.already_present()
    if existing is not None:
        click.echo(f"Demo data already present ({existing.email} exists); nothing to do.")
        return
    try:
        summary = demo.seed()
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    pledges = pledging.make_pledges(summary.live, summary.backer_ids)

    statuses = ", ".join(f"{count} {status}" for status, count in summary.by_status.items())
    projects = sum(summary.by_status.values())
    accounts = len(summary.people) + len(summary.backer_ids)
    click.echo(f"Created {accounts} accounts and {projects} projects ({statuses}),")
    click.echo(f"with {summary.tiers} reward tiers and a generated cover image each.")
    held = ", ".join(format_money(amount, code) for code, amount in pledges.held.items())
    click.echo(
        f"Made {pledges.made} pledges through the payment provider with a test card; "
        f"held in escrow: {held or 'nothing'}."
    )
    if pledges.warning:
        click.echo(_warning(pledges), err=True)
    click.echo("")
    click.echo(f"Demo accounts (password for all: {summary.password}):")
    width = max(len(p.email) for p in summary.people)
    for person in summary.people:
        click.echo(f"  {person.email:<{width}}  {person.role.value:<9}  {person.name}")
    click.echo(f"  and {len(BACKERS)} backers: {BACKERS[0].email} to {BACKERS[-1].email}")


def _warning(pledges: pledging.PledgeSummary) -> str:
    config = current_app.config
    provider = (
        "Stripe (STRIPE_SECRET_KEY)"
        if config["STRIPE_SECRET_KEY"]
        else f"the fake Stripe at {config['STRIPE_API_BASE']} (is it running?)"
    )
    if pledges.made:
        what = f"pledging stopped after {pledges.made} pledges; the totals count only those"
    else:
        what = "no pledges were made, so every project shows zero pledged"
    return (
        f"Warning: {what}. The payment provider failed: {pledges.warning}\n"
        f"Check {provider}. To seed with pledges, start again from an empty database."
    )
