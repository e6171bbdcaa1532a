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
        max_network_retries=app.config["STRIPE_MAX_NETWORK_RETRIES"],
    )


def gateway() -> StripeGateway:
    return current_app.extensions["payments_gateway"]
