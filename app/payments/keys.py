"""Idempotency keys for Stripe calls: one per row and purpose, stable per installation."""

from __future__ import annotations

from flask import current_app


def idempotency_key(kind: str, row_id: int) -> str:
    """Stable per row and per installation, so retries, even after a restart, are safe."""
    return f"{current_app.config['IDEMPOTENCY_PREFIX']}-{kind}-{row_id}"
