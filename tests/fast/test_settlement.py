"""Settling at the deadline, Stripe in memory: funded projects pay the creator minus the fee,
the others refund every backer, and a fault leaves the work to the next run, done once."""

from sqlalchemy import select

from app.extensions import db
from app.ledger import services as ledger
from app.payouts.models import Payout, PayoutStatus
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge, Refund, RefundStatus
from app.projects import services as projects
from app.projects.domain import ProjectStatus
from app.settlement import runner
from app.settlement import services as settlement
from app.settlement.runner import BALANCE_NOT_YET_AVAILABLE
from tests.fast.support import reread
from tests.helpers.pledging import assert_books_balance


def pledges_of(project) -> list[Pledge]:
    db.session.expire_all()
    return list(db.session.scalars(select(Pledge).where(Pledge.project_id == project.id)))


def settle() -> None:
    runner.settle_due()
    db.session.expire_all()


def funded(project, creator, pledge_paid, payout_account, stripe_memory, clock):
    """$1,050.50 held of a $1,000 goal, the creator onboarded, the money available, the
    deadline past."""
    account = payout_account(creator)
    for amount in (40000, 35050, 30000):
        pledge_paid(project, amount=amount)
    stripe_memory.make_balance_available()
    clock.jump_past(project.deadline)
    return account


def test_a_funded_project_pays_the_creator_minus_the_fee(
    creator, project, stripe_memory, pledge_paid, payout_account, clock
):
    account = funded(project, creator, pledge_paid, payout_account, stripe_memory, clock)
    settle()
    project = reread(project)
    assert project.status is ProjectStatus.PAID_OUT and project.settled_at is not None
    payout = db.session.scalar(select(Payout))
    assert (payout.gross, payout.fee, payout.net) == (105050, 5253, 99797)  # 5%, half up
    assert payout.status is PayoutStatus.SUCCEEDED
    (call,) = stripe_memory.calls_to("create_transfer")
    assert call.params["amount"] == 99797
    assert call.params["destination"] == account.stripe_account_id
    assert call.params["transfer_group"] == f"project-{project.id}"
    assert call.key == f"{payout.idempotency_key}-a0"
    (made,) = stripe_memory.transfers.values()
    assert payout.stripe_transfer_id == made.id
    assert stripe_memory.available["usd"] == 105050 - 99797  # the fee stays with the platform
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.COLLECTED}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert ledger.balance(ledger.creator(project.id)) == 99797
    assert ledger.balance(ledger.PLATFORM_FEES) == 5253
    assert stripe_memory.refunds == {}
    assert_books_balance()


def test_a_failed_project_refunds_every_backer_once(project, stripe_memory, pledge_paid, clock):
    pledges = [pledge_paid(project, amount=a) for a in (10000, 25000, 1001)]
    clock.jump_past(project.deadline)
    settle()
    project = reread(project)
    assert project.status is ProjectStatus.FAILED and project.settled_at is not None
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDED}
    made = stripe_memory.calls_to("create_refund")
    assert sorted(c.params["amount"] for c in made) == [1001, 10000, 25000]
    keys = {r.idempotency_key for r in db.session.scalars(select(Refund))}
    assert {c.key for c in made} == keys and len(keys) == 3
    refunded = {r.payment_intent: r.amount for r in stripe_memory.refunds.values()}
    assert sorted(refunded.values()) == [1001, 10000, 25000]
    assert stripe_memory.transfers == {}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    for pledge in pledges:
        assert ledger.balance(ledger.backer(pledge.backer_id)) == 0
    assert_books_balance()

    calls = len(stripe_memory.calls)
    settle()  # a second run finds nothing to do
    assert len(stripe_memory.calls) == calls


def test_a_cancelled_project_refunds_everyone(creator, project, stripe_memory, pledge_paid):
    pledge_paid(project, amount=10000)
    pledge_paid(project, amount=20000)
    projects.cancel(project, creator, "Factory closed.")
    db.session.commit()
    settle()
    assert reread(project).settled_at is not None
    assert sorted(r.amount for r in stripe_memory.refunds.values()) == [10000, 20000]
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDED}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_the_payout_waits_for_onboarding_and_then_the_balance(
    creator, project, stripe_memory, pledge_paid, payout_account, clock
):
    from app.payouts import workflows as payouts

    account = payout_account(creator, complete=False)
    pledge_paid(project, amount=100000)
    clock.jump_past(project.deadline)
    settle()
    assert reread(project).status is ProjectStatus.FUNDED
    assert stripe_memory.calls_to("create_transfer") == []
    assert db.session.scalar(select(Payout)).status is PayoutStatus.PENDING

    stripe_memory.complete_account(account.stripe_account_id)
    payouts.refresh(creator.id)
    clock.advance(minutes=10)
    settle()  # the money is still pending at Stripe
    payout = db.session.scalar(select(Payout))
    assert payout.last_error == BALANCE_NOT_YET_AVAILABLE
    assert stripe_memory.calls_to("create_transfer") == []
    assert reread(project).status is ProjectStatus.FUNDED

    stripe_memory.make_balance_available()
    clock.advance(minutes=10)
    settle()
    assert reread(project).status is ProjectStatus.PAID_OUT
    (made,) = stripe_memory.transfers.values()
    assert made.amount == 95000
    assert_books_balance()


def test_a_transfer_whose_answer_was_lost_is_found_not_sent_twice(
    creator, project, stripe_memory, pledge_paid, payout_account, clock
):
    funded(project, creator, pledge_paid, payout_account, stripe_memory, clock)
    stripe_memory.fail("create_transfer", after=True)  # made at Stripe, the answer lost
    settle()
    payout = db.session.scalar(select(Payout))
    assert settlement.transfer_in_doubt(payout)
    assert payout.status is PayoutStatus.PENDING
    assert reread(project).status is ProjectStatus.FUNDED
    (made,) = stripe_memory.transfers.values()

    clock.advance(minutes=10)
    settle()
    payout = db.session.scalar(select(Payout))
    assert (payout.status, payout.stripe_transfer_id) == (PayoutStatus.SUCCEEDED, made.id)
    assert stripe_memory.calls_to("list_transfers")  # looked up before anything is replayed
    assert len(stripe_memory.transfers) == 1
    assert stripe_memory.available["usd"] == 105050 - 99797
    assert reread(project).status is ProjectStatus.PAID_OUT
    assert ledger.balance(ledger.creator(project.id)) == 99797
    assert_books_balance()


def test_refunds_stripe_did_not_answer_are_made_by_the_next_run_once(
    project, stripe_memory, pledge_paid, clock
):
    for amount in (10000, 25000, 1001):
        pledge_paid(project, amount=amount)
    clock.jump_past(project.deadline)
    stripe_memory.fail("create_refund", times=3)
    settle()
    project = reread(project)
    assert project.status is ProjectStatus.FAILED and project.settled_at is None
    stuck = list(db.session.scalars(select(Refund)))
    assert [(r.status, r.attempts) for r in stuck] == [(RefundStatus.PENDING, 1)] * 3
    assert stripe_memory.refunds == {}
    assert ledger.balance(ledger.escrow(project.id)) == 36001
    assert_books_balance()

    clock.advance(minutes=10)
    settle()
    assert reread(project).settled_at is not None
    assert sorted(r.amount for r in stripe_memory.refunds.values()) == [1001, 10000, 25000]
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDED}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()
