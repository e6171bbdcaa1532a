"""What the fast tier's tests share: reading rows back (the workflows commit in their own
steps) and the payout links."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.payouts.services import Links
from app.pledges.models import Payment, Refund

LINKS = Links(refresh_url="http://localhost/payouts/refresh", return_url="http://localhost/payouts")


def reread(row):
    """The row as the database has it now (the workflows commit in their own steps)."""
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def payments_of(pledge_id: int) -> list[Payment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Payment).where(Payment.pledge_id == pledge_id).order_by(Payment.id)
        )
    )


def refunds_of(pledge_id: int) -> list[Refund]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Refund).where(Refund.pledge_id == pledge_id).order_by(Refund.id))
    )
