"""`flask ledger reconcile`: the ledger and our rows against what the fake Stripe reports."""

import pytest
from sqlalchemy import delete, select, update

from app.audit import reconcile
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.ledger.services import Transfer
from app.money import format_money
from app.payments.gateway import RefundResult
from app.payouts.models import ConnectedAccount, Payout
from app.pledges.models import Payment, Refund, RefundStatus

KEY = ("sk_test_offline", "")


def run(runner, project):
    return runner.invoke(args=["ledger", "reconcile", "--project", str(project.id)])


def lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line]


def first_payment() -> Payment:
    db.session.expire_all()
    return db.session.scalars(select(Payment).order_by(Payment.id)).first()


def test_paid_out_project_reconciles(app, paid_out, runner):
    result = run(runner, paid_out)
    assert result.exit_code == 0, result.output
    assert lines(result) == [
        f"Project {paid_out.id} reconciled: 3 payment intent(s), 0 refund(s) and 1 transfer(s) "
        "at Stripe agree with our rows and 5 ledger transaction(s)."
    ]


def test_failed_project_reconciles(app, failed, runner):
    result = run(runner, failed)
    assert result.exit_code == 0, result.output
    assert "3 payment intent(s), 3 refund(s) and 0 transfer(s)" in result.output
    assert "6 ledger transaction(s)" in result.output


def test_a_refund_made_behind_our_back(app, paid_out, stripe_fake, runner):
    payment = first_payment()
    made = stripe_fake.http.post(
        f"{stripe_fake.url}/v1/refunds",
        data={"payment_intent": payment.stripe_payment_intent_id, "amount": 500},
        auth=KEY,
        timeout=10,
    ).json()
    result = run(runner, paid_out)
    assert result.exit_code == 1
    assert lines(result) == [
        f"Stripe refund {made['id']} of $5.00 on {payment.stripe_payment_intent_id} "
        f"(payment {payment.id}, pledge {payment.pledge_id}) is not in our books",
        "1 difference(s) found.",
    ]


def test_a_missing_ledger_transaction(app, paid_out, runner):
    payment = first_payment()
    txn_id = db.session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.source == f"payment:{payment.id}")
    )
    # Rows are append-only through the ORM; a raw delete stands for a lost row.
    db.session.execute(delete(LedgerEntry).where(LedgerEntry.transaction_id == txn_id))
    db.session.execute(delete(LedgerTransaction).where(LedgerTransaction.id == txn_id))
    db.session.commit()
    result = run(runner, paid_out)
    assert result.exit_code == 1
    backer_id = payment.pledge.backer_id
    assert lines(result)[0] == (
        f"payment {payment.id} (pledge {payment.pledge_id}): $400.00 from backer:{backer_id} "
        f"to escrow:{paid_out.id} is missing from the ledger (payment:{payment.id})"
    )
    assert len(lines(result)) == 2


def test_an_extra_ledger_transaction(app, failed, runner):
    ledger.book(
        Transfer("refund", "refund:by-hand-1", failed.id, None, ledger.escrow(failed.id),
                 ledger.backer(1), 1234, "USD")
    )  # fmt: skip
    db.session.commit()
    txn_id = db.session.scalar(
        select(LedgerTransaction.id).where(LedgerTransaction.source == "refund:by-hand-1")
    )
    result = run(runner, failed)
    assert result.exit_code == 1
    assert lines(result) == [
        f"ledger transaction {txn_id} (refund:by-hand-1) matches no payment, refund or payout "
        f"of project {failed.id} at Stripe: refund on project {failed.id} "
        f"[backer:1 $12.34, escrow:{failed.id} -$12.34]",
        "1 difference(s) found.",
    ]


def test_a_ledger_amount_that_differs(app, failed, runner):
    refund = db.session.scalars(select(Refund).order_by(Refund.id)).first()
    db.session.execute(
        update(LedgerEntry)
        .where(
            LedgerEntry.transaction_id
            == select(LedgerTransaction.id)
            .where(LedgerTransaction.source == f"refund:{refund.id}")
            .scalar_subquery(),
            LedgerEntry.amount > 0,
        )
        .values(amount=LedgerEntry.amount - 1)
    )
    db.session.commit()
    output = run(runner, failed).output
    assert f"(refund:{refund.id}) books refund on project {failed.id}" in output
    assert f"but refund {refund.id} of payment {refund.payment_id}" in output


def test_a_booked_refund_stripe_does_not_have(app, failed, runner):
    refund = db.session.scalars(select(Refund).order_by(Refund.id)).first()
    real_id = refund.stripe_refund_id
    db.session.execute(
        update(Refund).where(Refund.id == refund.id).values(stripe_refund_id="re_invented")
    )
    db.session.commit()
    result = run(runner, failed)
    assert result.exit_code == 1
    amount = format_money(refund.amount, "USD")  # refunds run concurrently: any of the three
    assert f"Stripe refund {real_id} of {amount}" in result.output
    assert (
        f"refund {refund.id} (re_invented) of {amount} is booked, but Stripe lists no such "
        "refund on"
    ) in result.output


def test_a_transfer_we_did_not_make(app, paid_out, stripe_fake, creator, runner):
    account = db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.user_id == creator.id)
    )
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/balance", data={"available[usd]": 10_000}, timeout=10
    ).raise_for_status()
    made = stripe_fake.http.post(
        f"{stripe_fake.url}/v1/transfers",
        data={
            "amount": 700,
            "currency": "usd",
            "destination": account.stripe_account_id,
            "transfer_group": f"project-{paid_out.id}",
        },
        auth=KEY,
        timeout=10,
    ).json()
    result = run(runner, paid_out)
    assert result.exit_code == 1
    assert (
        f"Stripe transfer {made['id']} of $7.00 to {account.stripe_account_id} in transfer "
        f"group project-{paid_out.id} is not in our books"
    ) in result.output


def test_a_payout_with_another_amount(app, paid_out, runner):
    payout = db.session.scalar(select(Payout))
    db.session.execute(
        update(Payout)
        .where(Payout.id == payout.id)
        .values(net=payout.net - 100, fee=payout.fee + 100)
    )
    db.session.commit()
    output = run(runner, paid_out).output
    assert (
        f"payout {payout.id}: Stripe transferred $1,012.22 ({payout.stripe_transfer_id}), "
        "our payout row says $1,011.22" in output
    )


def test_unknown_project_and_stripe_down(app, failed, stripe_fake, runner):
    result = runner.invoke(args=["ledger", "reconcile", "--project", "999999"])
    assert result.exit_code == 2 and "There is no project 999999." in result.output
    stripe_fake.fault("/v1/payment_intents", status=503, method="GET")
    result = run(runner, failed)
    assert result.exit_code == 2 and "Stripe could not be asked" in result.output


def test_reconcile_without_the_cli(app, failed):
    outcome = reconcile.reconcile(failed.id, workers=1)
    assert outcome.ok and (outcome.charges, outcome.refunds, outcome.transfers) == (3, 3, 0)


# The rule for one refund both sides know, state by state (Stripe's status, ours).
S = RefundStatus
AGREE = [
    ("succeeded", S.SUCCEEDED, None),
    ("pending", S.PROCESSING, None),  # on its way at Stripe, and here
    ("failed", S.FAILED, None),
    ("canceled", S.FAILED, None),
    ("pending", S.PENDING,
     "Stripe refund re_1 of $12.34 is pending, but we have refund 7 as pending"),
    ("succeeded", S.PROCESSING,
     "Stripe refund re_1 of $12.34 is succeeded, but we have refund 7 as processing"),
    ("failed", S.SUCCEEDED, "refund 7 (re_1) is booked as succeeded, but Stripe has it failed"),
]  # fmt: skip


@pytest.mark.parametrize(("theirs", "ours", "expected"), AGREE)
def test_a_refund_both_sides_know_agrees_in_state(theirs, ours, expected):
    result = reconcile.Reconciliation(1)
    report = reconcile._Report(result, "USD")
    reconcile._a_stripe_refund_agrees_with_ours(
        report, RefundResult("re_1", theirs, 1234), reconcile._Refund(7, 3, 1234, ours, "re_1")
    )
    assert result.differences == ([expected] if expected else [])


def test_a_refund_both_sides_know_agrees_in_amount():
    result = reconcile.Reconciliation(1)
    reconcile._a_stripe_refund_agrees_with_ours(
        reconcile._Report(result, "USD"),
        RefundResult("re_1", "succeeded", 1000),
        reconcile._Refund(7, 3, 1234, RefundStatus.SUCCEEDED, "re_1"),
    )
    assert result.differences == [
        "refund 7 (re_1): Stripe refunded $10.00, our refund row says $12.34"
    ]
