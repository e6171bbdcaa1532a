"""`flask demo seed`: fill a local site with demo people and projects."""

import click
from flask.cli import AppGroup

from app.accounts.services import AccountError
from app.demo import seed as demo
from app.extensions import db

demo_cli = AppGroup("demo", help="Demo data for a locally-run site.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create demo accounts and projects (once: a second run changes nothing)."""
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

    statuses = ", ".join(f"{count} {status}" for status, count in summary.by_status.items())
    projects = sum(summary.by_status.values())
    click.echo(f"Created {len(summary.people)} accounts and {projects} projects ({statuses}),")
    click.echo(f"with {summary.tiers} reward tiers and a generated cover image each.")
    click.echo("")
    click.echo(f"Demo accounts (password for all: {summary.password}):")
    width = max(len(p.email) for p in summary.people)
    for person in summary.people:
        click.echo(f"  {person.email:<{width}}  {person.role.value:<9}  {person.name}")
