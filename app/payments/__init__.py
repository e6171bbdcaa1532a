"""Payments: the Stripe gateway, the webhook endpoint and the offline set-up."""

from __future__ import annotations

from flask import Flask, current_app

from app.payments.gateway import StripeGateway


def init_app(app: Flask) -> None:
    """Create the app's gateway (no network: the SDK connects on first call)."""
    secret = app.config["STRIPE_SECRET_KEY"]
    app.extensions["payments_gateway"] = StripeGateway(
        secret,
        api_base=None if secret else app.config["STRIPE_API_BASE"],
        attempts=app.config["STRIPE_RETRY_ATTEMPTS"],
        max_wait=app.config["STRIPE_RETRY_MAX_WAIT"],
        rate_limit=app.config["STRIPE_RATE_LIMIT"],
    )


def gateway() -> StripeGateway:
    return current_app.extensions["payments_gateway"]
