"""`flask payments ...`: offline set-up against the local fake Stripe."""

import click
import requests
from flask import current_app
from flask.cli import AppGroup

payments_cli = AppGroup("payments", help="Payment provider set-up.")


@payments_cli.command("register-webhook")
@click.argument("url")
def register_webhook(url: str) -> None:
    """Offline only: have the local fake Stripe send its events to URL (signed)."""
    if current_app.config["STRIPE_SECRET_KEY"]:
        raise click.ClickException(
            "With real Stripe keys, add the endpoint in Stripe's dashboard and set "
            "STRIPE_WEBHOOK_SECRET to its signing secret."
        )
    base = current_app.config["STRIPE_API_BASE"].rstrip("/")
    response = requests.post(
        f"{base}/_config/webhooks/platform",
        timeout=10,
        data={"url": url, "secret": current_app.config["STRIPE_WEBHOOK_SECRET"]},
    )
    if response.status_code >= 400:
        raise click.ClickException(f"The fake Stripe refused: {response.text[:200]}")
    click.echo(f"Webhook events from {base} now go to {url}.")


register_webhook.needs_no_schema = True  # run by scripts/run before the first migration
