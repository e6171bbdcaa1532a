"""Stripe's test card 4000000000007726: the charge succeeds; a refund of it is ``pending`` at
first and ``succeeded`` ``settings.refund_failure_after`` seconds later, with
``charge.refund.updated`` and ``refund.updated`` (Stripe's "refund pending" test card)."""

from localstripe import resources as r

from . import money
from .core import emit, later, settings

REFUND_PENDING_CARD = "4000000000007726"
_refund_made = money.refund_made


def refund_made(refund, charge):
    _refund_made(refund, charge)
    if money._card(charge) == REFUND_PENDING_CARD:
        refund.status = "pending"
        later(settings.refund_failure_after, lambda: succeed_refund(refund.id))


def succeed_refund(refund_id):
    refund = r.store.get(f"refund:{refund_id}")
    if refund is None or refund.status != "pending":
        return
    before = refund._export()
    refund.status = "succeeded"
    emit("charge.refund.updated", refund, before)
    emit("refund.updated", refund, before)


money.refund_made = refund_made  # payments.py calls it through the module, so this one runs
