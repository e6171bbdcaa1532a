"""Stripe's processing fees: read from each succeeded charge's balance transaction, booked
once, and the share a payout gives back when the creator bears them.

The rules, in plain words:
- Stripe keeps a fee on every charge (a percentage plus a fixed amount, per currency) and
  does not return it when the charge is refunded. The fee is booked as the platform's cost
  when it is read (``platform:processing`` -> ``stripe:fees``), so escrow always holds the
  backers' money whole.
- With ``PROCESSING_FEES_PAID_BY = creator`` the payout of a funded project deducts the fees
  of the payments it pays out: the succeeded payments of its collected pledges, except a
  payment refunded in full (a change's payment that came too late). Those fees go back to
  the platform from escrow when the payout is booked. Fees of refunded pledges, and of
  partly refunded payments' refunded part, stay the platform's cost: Stripe keeps them.
- No rounding happens here: the fee is Stripe's figure, in minor units.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update

from app.extensions import db
from app.ledger import services as ledger
from app.ledger.services import Transfer
from app.pledges.domain import PledgeStatus as P
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus

log = logging.getLogger(__name__)


def unread(limit: int, project_id: int | None = None) -> list[tuple[int, str]]:
    """Succeeded payments whose fee is not read yet, oldest first: (payment id, charge id)."""
    stmt = (
        select(Payment.id, Payment.stripe_charge_id)
        .where(
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.processing_fee.is_(None),
            Payment.stripe_charge_id.is_not(None),
        )
        .order_by(Payment.id)
        .limit(limit)
    )
    if project_id is not None:
        stmt = stmt.join(Pledge, Pledge.id == Payment.pledge_id).where(
            Pledge.project_id == project_id
        )
    return [(pid, charge) for pid, charge in db.session.execute(stmt)]


def fee_read(payment_id: int, balance_transaction_id: str, fee: int, currency: str) -> bool:
    """Record and book one payment's fee, once (a conditional UPDATE decides); False if it was
    read before, or if Stripe settled the charge in another currency (not booked: logged, and
    the payment stays unread for an operator)."""
    row = db.session.execute(
        select(Payment.currency, Pledge.id, Pledge.project_id)
        .join(Pledge, Pledge.id == Payment.pledge_id)
        .where(Payment.id == payment_id)
    ).one_or_none()
    if row is None:
        return False
    if currency.upper() != row.currency.upper():
        log.error(
            "payment %s: Stripe settled it in %s, not %s; its fee is not booked",
            payment_id, currency, row.currency,
        )  # fmt: skip
        return False
    if not isinstance(fee, int) or fee < 0:
        raise ValueError(f"a processing fee is a whole amount >= 0, not {fee!r}")
    won = db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.processing_fee.is_(None))
        .values(processing_fee=fee, stripe_balance_transaction_id=balance_transaction_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        return False
    if fee:
        ledger.book(
            Transfer("processing_fee", f"processing-fee:payment:{payment_id}", row.project_id,
                     row.id, ledger.PLATFORM_PROCESSING, ledger.STRIPE_FEES, fee, row.currency)
        )  # fmt: skip
    return True


def _paid_out_payments(project_id: int):
    """The succeeded payments of the project's held pledges (collected by the payout), less
    those refunded in full."""
    refunded = (
        select(func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.payment_id == Payment.id, Refund.status == RefundStatus.SUCCEEDED)
        .scalar_subquery()
    )
    return (
        select(Payment.id, Payment.processing_fee)
        .join(Pledge, Pledge.id == Payment.pledge_id)
        .where(
            Pledge.project_id == project_id,
            Pledge.status.in_((P.HELD, P.COLLECTED)),
            Payment.status == PaymentStatus.SUCCEEDED,
            refunded < Payment.amount,
        )
    )


def creator_share(project_id: int) -> int | None:
    """The processing fees a creator's payout bears: the sum over the payments it pays out,
    or None while one of their fees is not read yet."""
    fees = [fee for _id, fee in db.session.execute(_paid_out_payments(project_id))]
    if any(fee is None for fee in fees):
        return None
    return sum(fees)
