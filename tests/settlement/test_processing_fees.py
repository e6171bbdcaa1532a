"""Stripe's processing fees in the books: read from each charge's balance transaction, borne
by the creator (deducted from the payout) or by the platform, and always by the platform on
refunded pledges. The fake Stripe charges its published card pricing here: 2.9% + 30 cents.
"""

import re

import pytest
from sqlalchemy import select

from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.payouts.models import Payout
from app.pledges.models import Payment
from tests.helpers import Browser
from tests.helpers.settling import back, make_balance_available, ready_account, settle

# $400, $350.50 and $300 at 2.9% (half up) + 30 cents: 1,190 + 1,046 + 900.
AMOUNTS = ["400", "350.50", "300"]
FEES = [1190, 1046, 900]


@pytest.fixture
def priced(stripe_fake):
    stripe_fake.set_fees(usd=("2.9", 30))
    return stripe_fake


def fees_read(runner) -> str:
    result = runner.invoke(args=["pledges", "sweep"])
    assert result.exit_code == 0, result.output
    return result.output


def stripe_balance_matches_the_books(stripe_fake, currency="USD") -> None:
    """What Stripe holds for the platform is every escrow, the platform's fees and its share
    of processing fees, to the cent."""
    held = sum(
        ledger.balance(account) for account in {ledger.PLATFORM_FEES, ledger.PLATFORM_PROCESSING}
    )
    escrows = db.session.execute(
        select(db.func.coalesce(db.func.sum(ledger.LedgerEntry.amount), 0)).where(
            ledger.LedgerEntry.account.like("escrow:%"), ledger.LedgerEntry.currency == currency
        )
    ).scalar()
    assert stripe_fake.balance(currency.lower()) == held + int(escrows)


def test_each_charges_fee_is_read_as_it_succeeds_and_booked_as_the_platforms_cost(
    app, project, priced, runner
):
    back(app, priced, project, AMOUNTS)
    payments = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [p.processing_fee for p in payments] == FEES
    txns = {t["id"]: t for t in priced.objects("balance_transactions")}
    for payment in payments:  # the fee is Stripe's own figure, from its balance transaction
        assert txns[payment.stripe_balance_transaction_id]["fee"] == payment.processing_fee
    assert ledger.balance(ledger.STRIPE_FEES) == sum(FEES)
    assert ledger.balance(ledger.PLATFORM_PROCESSING) == -sum(FEES)
    # Escrow keeps the backers' money whole: a refund gives it all back.
    assert ledger.balance(ledger.escrow(project.id)) == 105050
    assert "0 processing fee(s) read" in fees_read(runner)  # read once
    assert len(priced.requests("/v1/charges", "GET")) == 3
    stripe_balance_matches_the_books(priced)
    assert books.check() == []


def test_a_fee_stripe_did_not_give_at_once_is_read_by_the_sweep(app, project, priced, runner):
    priced.fault("/v1/charges/", status=500, count=1, method="GET")
    back(app, priced, project, ["400"])
    payment = db.session.scalar(select(Payment))
    assert payment.status.value == "succeeded" and payment.processing_fee is None
    assert ledger.balance(ledger.STRIPE_FEES) == 0
    assert "1 processing fee(s) read" in fees_read(runner)
    db.session.refresh(payment)
    assert payment.processing_fee == 1190
    assert ledger.balance(ledger.PLATFORM_PROCESSING) == -1190
    assert books.check() == []


def test_the_creator_bears_the_fees_of_the_pledges_paid_out_by_default(
    app, creator, project, priced, clock, runner
):
    ready_account(creator, priced)
    back(app, priced, project, AMOUNTS)  # $1,050.50 of $1,000
    make_balance_available(priced)
    clock.jump_past(project.deadline)
    settle(runner)
    payout = db.session.scalar(select(Payout))
    db.session.refresh(payout)
    # 105,050 - 5% platform fee (5,253) - processing fees (3,136) = 96,661, to the cent.
    assert (payout.gross, payout.fee, payout.processing_fee, payout.net) == (
        105050, 5253, 3136, 96661,
    )  # fmt: skip
    (transfer,) = priced.requests("/v1/transfers", "POST")
    assert int(transfer["params"]["amount"]) == 96661
    assert ledger.balance(ledger.creator(project.id)) == 96661
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert ledger.balance(ledger.PLATFORM_FEES) == 5253
    assert ledger.balance(ledger.PLATFORM_PROCESSING) == 0  # the creator paid them back
    assert ledger.balance(ledger.STRIPE_FEES) == 3136
    stripe_balance_matches_the_books(priced)
    assert books.check() == []


def test_the_platform_may_bear_them_instead(app, creator, project, priced, clock, runner):
    app.config["PROCESSING_FEES_PAID_BY"] = "platform"
    ready_account(creator, priced)
    back(app, priced, project, AMOUNTS)
    fees_read(runner)
    make_balance_available(priced)
    clock.jump_past(project.deadline)
    settle(runner)
    payout = db.session.scalar(select(Payout))
    assert (payout.fee, payout.processing_fee, payout.net) == (5253, 0, 99797)
    (transfer,) = priced.requests("/v1/transfers", "POST")
    assert int(transfer["params"]["amount"]) == 99797
    assert ledger.balance(ledger.PLATFORM_PROCESSING) == -3136
    stripe_balance_matches_the_books(priced)
    assert books.check() == []


def test_on_a_failed_project_backers_get_everything_back_and_the_platform_pays_stripe(
    app, project, priced, clock, runner
):
    back(app, priced, project, ["100", "250", "10.01"])
    clock.jump_past(project.deadline)
    settle(runner)
    fees_read(runner)
    refunds = priced.requests("/v1/refunds", "POST")
    assert sorted(int(r["params"]["amount"]) for r in refunds) == [1001, 10000, 25000]
    # 320 + 755 + 59: Stripe keeps them, and nobody else pays them.
    assert ledger.balance(ledger.PLATFORM_PROCESSING) == -1134
    assert ledger.balance(ledger.escrow(project.id)) == 0
    stripe_balance_matches_the_books(priced)
    assert books.check() == []


def test_a_payout_waits_while_a_fee_cannot_be_read(app, creator, project, priced, clock, runner):
    ready_account(creator, priced)
    priced.fault("/v1/charges/", status=500, count=3, method="GET")
    back(app, priced, project, AMOUNTS)  # none of the three fees is read at once
    make_balance_available(priced)
    clock.jump_past(project.deadline)
    priced.fault("/v1/charges/", status=500, count=100, method="GET")
    output = settle(runner)
    assert "processing fees not yet read" in output
    assert priced.requests("/v1/transfers", "POST") == []
    payout = db.session.scalar(select(Payout))
    assert "processing fees of some payments are not read yet" in payout.last_error
    priced.http.delete(f"{priced.url}/_config/faults", timeout=10).raise_for_status()
    settle(runner)
    db.session.refresh(payout)
    assert (payout.processing_fee, payout.net) == (3136, 96661)
    assert books.check() == []


def test_ledger_check_names_a_fee_read_but_not_booked(app, project, priced, runner):
    back(app, priced, project, ["400"])
    fees_read(runner)
    payment = db.session.scalar(select(Payment))
    db.session.execute(
        db.update(Payment).where(Payment.id == payment.id).values(processing_fee=1191)
    )
    db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert (
        f"project {project.id}: Stripe's processing fees read total 1191 but 1190 is booked"
    ) in result.output


def test_ledger_check_names_a_payout_that_deducts_more_than_stripe_kept(
    app, creator, project, priced, clock, runner
):
    ready_account(creator, priced)
    back(app, priced, project, AMOUNTS)
    make_balance_available(priced)
    clock.jump_past(project.deadline)
    settle(runner)
    payout = db.session.scalar(select(Payout))
    db.session.execute(
        db.update(Payout)
        .where(Payout.id == payout.id)
        .values(processing_fee=3137, net=payout.net - 1)
    )
    db.session.commit()
    output = runner.invoke(args=["ledger", "check"]).output
    assert "the payout deducts 3137 of processing fees, 3136 went back" in output


def test_the_statement_shows_each_part_to_the_cent_and_says_how_they_are_made(
    app, creator, project, priced, clock, runner
):
    ready_account(creator, priced)
    back(app, priced, project, AMOUNTS)
    make_balance_available(priced)
    clock.jump_past(project.deadline)
    settle(runner)
    browser = Browser(app.test_client())
    browser.login(creator.email)
    html = browser.client.get(f"/projects/{project.id}/statement").get_data(as_text=True)

    def shown(testid: str) -> str:
        match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
        assert match, testid
        return match.group(1)

    assert shown("gross") == "$1,050.50"
    assert shown("fee") == "$52.53"
    assert shown("processing-deducted") == "$31.36"
    assert shown("payout") == "$966.61"
    assert shown("processing-total") == "$31.36"
    assert shown("processing-platform") == "$0.00"
    assert "= charged, to the cent." in shown("balanced")
    assert "rounded half up to a whole minor unit" in shown("rounding-rule")
    assert "Processing fees kept by Stripe" in html


def test_reconcile_compares_each_fee_with_stripes_balance_transaction(
    app, creator, project, priced, clock, runner
):
    ready_account(creator, priced)
    back(app, priced, project, AMOUNTS)
    make_balance_available(priced)
    clock.jump_past(project.deadline)
    settle(runner)
    command = ["ledger", "reconcile", "--project", str(project.id)]
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    # 3 charges, 3 processing fees, the payout, the platform fee and the fees it gave back.
    assert "9 ledger transaction(s)" in result.output
    payment = db.session.scalars(select(Payment).order_by(Payment.id)).first()
    db.session.execute(db.update(Payment).where(Payment.id == payment.id).values(processing_fee=1))
    db.session.commit()
    result = runner.invoke(args=command)
    assert result.exit_code == 1
    assert (
        f"payment {payment.id} (pledge {payment.pledge_id}): Stripe kept a processing fee of "
        f"$11.90 on {payment.stripe_charge_id}, our payment row says $0.01"
    ) in result.output
    # ... and the $11.90 booked no longer matches the row.
    assert f"(processing-fee:payment:{payment.id}) books processing_fee" in result.output


def test_a_dry_run_says_the_payout_less_the_fees(app, creator, project, priced, clock, runner):
    ready_account(creator, priced)
    back(app, priced, project, AMOUNTS)
    clock.jump_past(project.deadline)
    output = settle(runner, "--dry-run")
    assert "would be funded, payout fee 5253, payout 96661 USD" in output
    assert priced.requests("/v1/transfers", "POST") == []
