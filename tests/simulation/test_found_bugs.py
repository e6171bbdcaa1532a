"""The bugs the campaign simulation found, each replayed as a short story. The seeds are those
that fail (at the first of these bugs they meet) against the code before the fixes.

- seeds 1, 4, 14, 19, 34: a backer who cancels while the refund of an earlier reduction is
  still pending got an error (the cancel planned the pending refund's money a second time
  and found too little to take it from).
- seeds 9, 30 (and 7, 14, 19 once the other two are fixed): a failed project's settlement
  marked a pledge refunded while a change's payment was still open; paid late, it put money
  back into the escrow of a "refunded" pledge, after its backer was told the refund was
  complete. The same open change, or a reduction still being refunded, at a funded
  project's payout left the collected pledges out of step with the payout.
- seeds 3, 7, 11, 16, 36: a reduction's refund that Stripe refused left a held pledge with
  more in escrow than its total, listed nowhere, with no way to retry it; a funded project
  then paid out and its books never closed.
"""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role
from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.payouts.models import Payout
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge
from tests.helpers import Browser, gen_user
from tests.helpers.pledging import new_backer, pay_through_pages
from tests.helpers.settling import back, make_balance_available, ready_account, settle

P = PledgeStatus


def fresh(pledge_id: int) -> Pledge:
    db.session.expire_all()
    return db.session.get(Pledge, pledge_id)


def books_balance() -> None:
    assert books.check() == []


def test_cancel_while_a_reduction_is_still_being_refunded(app, backer, project, stripe_fake):
    """Seeds 1, 4, 14, 19, 34."""
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="50")
    stripe_fake.fault("/v1/refunds", 500, method="POST")
    tier = project.tiers[0].id
    checkout.begin_change(pledge.id, pledge_services.Terms(tier, 3000))  # its refund: pending
    books_balance()

    checkout.cancel(pledge.id)  # was: ValueError, "not enough paid to refund"
    assert fresh(pledge.id).status is P.REFUNDING
    books_balance()
    assert checkout.resume_refunds() == 1
    pledge = fresh(pledge.id)
    assert pledge.status is P.REFUNDED
    assert sorted(r.amount for r in pledge.refunds) == [2000, 3000]
    books_balance()


def open_an_increase(app, stripe_fake, project, amount: str = "25") -> tuple[int, int]:
    browser = new_backer(app, "changer@example.com", "Changer")
    pledge, _ = pay_through_pages(browser, stripe_fake, project, amount=amount)
    changed = checkout.begin_change(pledge.id, pledge_services.Terms(pledge.tier_id, 4000))
    return pledge.id, changed.payment_id


def pay_late(stripe_fake, payment_id: int) -> str:
    payment = db.session.get(Payment, payment_id)
    intent = payment.stripe_payment_intent_id
    db.session.commit()
    stripe_fake.pay(intent)
    return checkout.confirm(payment_id).status


def test_a_failed_project_keeps_a_pledge_refunding_while_its_change_is_open(
    app, creator, project, stripe_fake, clock, runner
):
    """Seeds 9, 30: the change is paid after the deadline, and its refund is slow."""
    pledge_id, payment_id = open_an_increase(app, stripe_fake, project)
    clock.jump_past(project.deadline)
    assert "work left for the next run" in settle(runner)
    pledge = fresh(pledge_id)
    assert pledge.status is P.REFUNDING and pledge.net_collected == 0  # not refunded: open
    books_balance()

    stripe_fake.fault("/v1/refunds", 500, method="POST")
    assert pay_late(stripe_fake, payment_id) == "too_late"
    assert fresh(pledge_id).status is P.REFUNDING  # 1500 back in escrow, its refund pending
    books_balance()
    assert ", settled" in settle(runner)  # settlement resumes the refund
    assert fresh(pledge_id).status is P.REFUNDED
    books_balance()


def test_a_change_that_expires_after_a_failed_deadline_ends_the_pledge_refunded(
    app, creator, project, stripe_fake, clock, runner
):
    pledge_id, _ = open_an_increase(app, stripe_fake, project)
    clock.jump_past(project.deadline)
    settle(runner)
    assert fresh(pledge_id).status is P.REFUNDING
    clock.advance(minutes=app.config["PLEDGE_RESERVATION_MINUTES"] + 1)
    assert checkout.sweep_expired_payments() == 1
    assert fresh(pledge_id).status is P.REFUNDED
    assert ", settled" in settle(runner)
    books_balance()


def test_the_payout_waits_for_a_change_still_under_way(
    app, creator, project, stripe_fake, clock, runner
):
    """The funded twin: a change paid late is refunded slowly; the payout waits for it."""
    ready_account(creator, stripe_fake)
    back(app, stripe_fake, project, ["700", "400"])
    pledge_id, payment_id = open_an_increase(app, stripe_fake, project)
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    assert "pending: a pledge change is still under way" in settle(runner)

    stripe_fake.fault("/v1/refunds", 500, count=2, method="POST")  # the next run's try too
    assert pay_late(stripe_fake, payment_id) == "too_late"
    assert "pending: a pledge change is still under way" in settle(runner)
    assert fresh(pledge_id).status is P.HELD  # its late 1500 in escrow, the refund pending
    books_balance()
    assert "paid_out" in settle(runner) and fresh(pledge_id).status is P.COLLECTED
    payout = db.session.scalar(select(Payout))
    assert payout.gross == 70000 + 40000 + 2500
    assert ledger.balance(ledger.escrow(project.id)) == 0
    books_balance()


def test_a_refused_refund_of_a_reduction_waits_for_an_admin(
    app, creator, project, stripe_fake, clock, runner
):
    """Seeds 3, 7, 11, 16, 36."""
    ready_account(creator, stripe_fake)
    back(app, stripe_fake, project, ["700"])
    browser = new_backer(app, "reducer@example.com", "Reducer")
    pledge, _ = pay_through_pages(browser, stripe_fake, project, amount="500")
    stripe_fake.fault("/v1/refunds", 400, method="POST")  # Stripe refuses, for good
    checkout.begin_change(pledge.id, pledge_services.Terms(pledge.tier_id, 40000))
    pledge = fresh(pledge.id)
    assert (pledge.status, pledge.total, pledge.net_collected) == (P.HELD, 40000, 50000)
    assert pledge.refused_difference == 10000
    assert pledge in pledge_services.needing_attention()
    books_balance()  # the difference is accounted for: it waits for an admin

    gen_user("root@example.com", "Root", role=Role.ADMIN)
    admin = Browser(app.test_client())
    admin.login("root@example.com")
    queue = admin.client.get("/moderation/").get_data(as_text=True)
    assert "$100.00 of a reduction" in queue and "Retry refund" in queue

    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    assert "pending: a pledge change is still under way" in settle(runner)
    books_balance()

    admin.submit("/moderation/", action=f"/moderation/pledges/{pledge.id}/retry-refund")
    pledge = fresh(pledge.id)
    assert (pledge.status, pledge.net_collected, pledge.refused_difference) == (P.HELD, 40000, 0)
    assert pledge not in pledge_services.needing_attention()
    assert "paid_out" in settle(runner)
    payout = db.session.scalar(select(Payout))
    assert payout.gross == 110000
    assert fresh(pledge.id).status is P.COLLECTED
    assert ledger.balance(ledger.escrow(project.id)) == 0
    books_balance()


def test_a_failed_project_refunds_a_refused_difference_with_the_rest(
    app, creator, project, stripe_fake, clock, runner
):
    pledge, _ = pay_through_pages(
        new_backer(app, "reducer@example.com", "Reducer"), stripe_fake, project, amount="500"
    )
    stripe_fake.fault("/v1/refunds", 400, method="POST")
    checkout.begin_change(pledge.id, pledge_services.Terms(pledge.tier_id, 40000))
    clock.jump_past(project.deadline)
    assert ", settled" in settle(runner)
    pledge = fresh(pledge.id)
    assert (pledge.status, pledge.net_collected) == (P.REFUNDED, 0)
    assert all(p.status is PaymentStatus.SUCCEEDED for p in pledge.payments)
    books_balance()
