"""`flask pledges sweep`: expire abandoned payments and finish interrupted refunds."""

import click
from flask.cli import AppGroup

from app.pledges import checkout

pledges_cli = AppGroup("pledges", help="Pledge housekeeping.")


@pledges_cli.command("sweep")
def sweep() -> None:
    """Release reward places of payments not completed in time; retry pending refunds."""
    expired = checkout.sweep_expired_payments()
    refunds = checkout.resume_refunds()
    click.echo(f"{expired} expired payment(s) closed, {refunds} pending refund(s) retried.")
