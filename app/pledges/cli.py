"""`flask pledges sweep`: expire abandoned payments and finish interrupted refunds."""

import click
from flask.cli import AppGroup

from app.pledges import checkout

pledges_cli = AppGroup("pledges", help="Pledge housekeeping.")


@pledges_cli.command("sweep")
def sweep() -> None:
    """Release reward places of payments not completed in time; retry pending refunds; re-read
    at Stripe the payments and refunds it has left open for a few minutes; read Stripe's
    processing fee of succeeded payments."""
    expired = checkout.sweep_expired_payments()
    refunds = checkout.resume_refunds()
    payments = checkout.recheck_open_payments()
    processing = checkout.recheck_processing_refunds()
    fees = checkout.read_processing_fees()
    click.echo(
        f"{expired} expired payment(s) closed, {refunds} pending refund(s) retried, "
        f"{payments} open payment(s) and {processing} refund(s) pending at Stripe re-read, "
        f"{fees} processing fee(s) read."
    )
