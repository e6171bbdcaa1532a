"""Stripe's webhook as the tests send it: events, signed (or not) with the platform's secret."""

from __future__ import annotations

import json
import time

import stripe
from sqlalchemy import select

from app.extensions import db
from app.payouts.models import ConnectedAccount


def signature(body: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header of ``body``."""
    ts = timestamp or int(time.time())
    return f"t={ts},v1={stripe.WebhookSignature._compute_signature(f'{ts}.{body}', secret)}"


def signed(app, payload: dict, secret: str | None = None, timestamp: int | None = None):
    """The body and headers of ``payload`` as Stripe would send it."""
    body = json.dumps(payload)
    secret = secret or app.config["STRIPE_WEBHOOK_SECRET"]
    headers = {"Stripe-Signature": signature(body, secret, timestamp)}
    return body, {**headers, "Content-Type": "application/json"}


def event(event_id: str, type_: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": type_,
        "data": {"object": obj},
        "api_version": "2020-08-27",
        "created": int(time.time()),
    }


def post(client, body, headers):
    return client.post("/stripe/webhook", data=body, headers=headers)


def forged_events(world) -> dict[str, dict]:
    """Events that would change money or payouts of the security world (its backer's pledge,
    its owner's payout account) if the platform believed them."""
    owner_account = db.session.scalar(
        select(ConnectedAccount.stripe_account_id).where(
            ConnectedAccount.user_id == world.user_ids["owner"]
        )
    )
    db.session.rollback()
    objects = {
        "dispute": (
            "charge.dispute.created",
            {"id": "dp_forged", "object": "dispute", "payment_intent": world.payment_intent_id},
        ),
        "refund behind our back": (  # (charge.refunded lists its refunds from Stripe)
            "refund.updated",
            {
                "id": "re_forged",
                "object": "refund",
                "payment_intent": world.payment_intent_id,
                "amount": 2500,
                "status": "succeeded",
                "metadata": {},
            },
        ),
        "payouts switched off": (
            "account.updated",
            {
                "id": owner_account,
                "object": "account",
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
            },
        ),
    }
    return {
        name: event(f"evt_forged_{i}", type_, obj)
        for i, (name, (type_, obj)) in enumerate(objects.items())
    }
