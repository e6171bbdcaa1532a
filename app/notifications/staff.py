"""Mail to the platform's staff: every admin hears when a project's books and Stripe differ."""

from __future__ import annotations

from sqlalchemy import select

from app import events
from app.accounts.models import Role, User
from app.extensions import db
from app.notifications.services import Kind, to_user


def reconciliation_differs(event: events.ReconciliationDiffers) -> None:
    """One mail per admin and check (a check repeated 30 days on mails again)."""
    kind = Kind.RECONCILIATION_DIFFERS_ADMIN
    admins = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.disabled_at.is_(None))
    )
    for admin_id in admins:
        to_user(
            kind,
            f"{kind.value}:{event.reconciliation_id}:{admin_id}",
            admin_id,
            project_id=event.project_id,
            data={"count": event.count, "reconciliation_id": event.reconciliation_id},
        )
