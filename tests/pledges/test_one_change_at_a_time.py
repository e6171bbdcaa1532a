"""What a backer sees when their pledge moved under them, and the money that arrives late:
a stale page is refused and changes nothing, money for a pledge that no longer waits for it
goes back in full, messages say what Stripe did, and settlement never decides on books that
disagree."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerTransaction
from app.notifications.models import Outbox
from app.pledges import checkout
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.projects.models import Project
from app.settlement import runner as settlement
from tests.helpers import parse_forms
from tests.helpers.pledging import (
    assert_books_balance,
    latest_pledge,
    open_payment_of,
    pay_through_pages,
)
from tests.helpers.webhooks import event, post, signed


def form_of(browser, url: str) -> dict:
    page = browser.client.get(url)
    assert page.status_code == 200
    forms = [f for f in parse_forms(page.get_data(as_text=True)) if f["action"] != "/logout"]
    return forms[0]["fields"]


def refund_calls(stripe_fake) -> list[int]:
    return [int(c["params"]["amount"]) for c in stripe_fake.requests("/v1/refunds", "POST")]


def test_a_reduction_from_a_stale_tab_is_refused_and_changes_nothing(
    app, backer, project, stripe_fake
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="50")
    url = f"/pledges/{pledge.id}/change"
    first_tab, second_tab = form_of(backer, url), form_of(backer, url)
    first = backer.client.post(url, data={**first_tab, "amount": "30"})
    assert first.status_code == 302
    answer = backer.client.post(url, data={**second_tab, "amount": "20"}, follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Your pledge changed meanwhile" in text and "nothing was done" in text
    pledge = latest_pledge()
    assert (pledge.amount, pledge.net_collected) == (3000, 3000)
    assert refund_calls(stripe_fake) == [2000]  # the first tab's reduction only
    db.session.refresh(project)
    assert project.pledged_amount == 3000
    assert_books_balance()


def test_a_cancel_from_a_stale_tab_after_an_increase_is_refused(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    cancel_tab = form_of(backer, f"/pledges/{pledge.id}/cancel")
    backer.submit(f"/pledges/{pledge.id}/change", {"amount": "40"})  # opens a payment
    answer = backer.client.post(
        f"/pledges/{pledge.id}/cancel", data=cancel_tab, follow_redirects=True
    )
    assert "Your pledge changed meanwhile" in answer.get_data(as_text=True)
    assert latest_pledge().status is PledgeStatus.HELD
    assert refund_calls(stripe_fake) == []
    # JSON clients get a 409 with the reason.
    json_answer = backer.client.post(
        f"/pledges/{pledge.id}/cancel", data=cancel_tab, headers={"Accept": "application/json"}
    )
    assert json_answer.status_code == 409
    assert "changed meanwhile" in json_answer.json["message"]


def test_a_version_that_is_not_a_number_is_a_form_error(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    fields = form_of(backer, f"/pledges/{pledge.id}/cancel")
    answer = backer.client.post(f"/pledges/{pledge.id}/cancel", data={**fields, "version": "x1"})
    assert answer.status_code == 200
    assert "This page is out of date" in answer.get_data(as_text=True)
    assert latest_pledge().status is PledgeStatus.HELD


def test_money_landing_for_a_cancelled_pledge_goes_back_in_full(app, backer, project, stripe_fake):
    """The increase's payment is open; it is given up (the sweep), the pledge cancelled, and
    then Stripe says the card was charged after all: that money never counts."""
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    backer.submit(f"/pledges/{pledge.id}/change", {"amount": "40"})
    extra = open_payment_of(pledge.id)
    intent_id, extra_id = extra.stripe_payment_intent_id, extra.id
    db.session.execute(
        update(Payment).where(Payment.id == extra_id).values(status=PaymentStatus.FAILED)
    )
    db.session.commit()
    backer.submit(f"/pledges/{pledge.id}/cancel")
    assert latest_pledge().status is PledgeStatus.REFUNDED
    stripe_fake.pay(intent_id)  # charged at Stripe all the same
    outcome = checkout.record_intent(extra_id, "succeeded", None)
    assert outcome.status == "too_late"
    assert "does not count" in outcome.message
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUNDED
    assert sorted(refund_calls(stripe_fake)) == [1500, 2500]
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (0, 0)
    assert ledger.balance(ledger.escrow(project.id)) == 0
    mail = db.session.scalars(select(Outbox.kind).where(Outbox.pledge_id == pledge.id)).all()
    assert "payment_returned_backer" in mail
    assert_books_balance()


def test_a_signed_event_that_disagrees_with_our_rows_is_flagged_not_booked(
    app, client, backer, project, stripe_fake
):
    backer.submit(f"/projects/{project.id}/back", {"tier_id": str(project.tiers[0].id),
                                                   "amount": "25"})  # fmt: skip
    payment = open_payment_of(latest_pledge().id)
    forged = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 1,  # not what we asked for
        "currency": "usd",
        "metadata": {"pledge_id": str(payment.pledge_id), "payment_id": str(payment.id)},
    }
    answer = post(client, *signed(app, event("evt_mismatch", "payment_intent.succeeded", forged)))
    assert answer.status_code == 200 and answer.json["result"] == "mismatch"
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.PENDING
    assert "amount 1, ours 2500" in pledge.attention
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 0


def test_a_signed_event_missing_a_field_is_answered_200_and_moves_nothing(
    app, client, backer, project, stripe_fake
):
    pay_through_pages(backer, stripe_fake, project, amount="25")
    for i, obj in enumerate(
        [{"object": "payment_intent"}, {"id": 5}, {"object": "refund", "id": "re_1"}]
    ):
        for type_ in ("payment_intent.succeeded", "charge.refunded", "refund.failed"):
            answer = post(client, *signed(app, event(f"evt_bad_{i}_{type_}", type_, obj)))
            assert answer.status_code == 200, (obj, type_)
            assert answer.json["result"] in ("malformed", "unknown payment"), (obj, type_)
    assert latest_pledge().status is PledgeStatus.HELD
    assert_books_balance()


def test_a_refund_that_fails_after_it_was_made_puts_the_money_back_in_escrow(
    app, client, backer, project, stripe_fake
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    backer.submit(f"/pledges/{pledge.id}/cancel")
    refund = latest_pledge().refunds[0]
    payment = open_payment_of(pledge.id)
    failed = {
        "id": refund.stripe_refund_id,
        "object": "refund",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": 2500,
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "metadata": {"refund_id": str(refund.id)},
    }
    for n in (1, 2):  # the second delivery changes nothing more
        post(client, *signed(app, event(f"evt_refund_failed_{n}", "refund.failed", failed)))
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUND_FAILED
    assert db.session.get(Refund, refund.id).status is RefundStatus.FAILED
    assert ledger.balance(ledger.escrow(project.id)) == 2500  # back in escrow, for an admin
    assert "failed after it was made" in pledge.attention
    mail = db.session.scalars(select(Outbox.kind).where(Outbox.pledge_id == pledge.id)).all()
    assert mail.count("refund_failed_backer") == 1
    assert_books_balance()


def test_a_refused_cancel_refund_never_says_the_money_is_on_its_way(
    app, backer, project, stripe_fake
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    stripe_fake.fault("/v1/refunds", status=400)
    answer = backer.submit(f"/pledges/{pledge.id}/cancel", follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert "on its way back" not in text
    assert "refused the refund" in text and "held safely for you" in text


def test_settlement_holds_a_project_whose_books_disagree(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    # The running total says the goal was reached; the held pledges say $25.
    db.session.execute(
        update(Project)
        .where(Project.id == project.id)
        .values(pledged_amount=project.goal_amount, deadline=func.now())
    )
    db.session.commit()
    db.session.execute(
        update(Project).where(Project.id == project.id).values(deadline=Project.launched_at)
    )
    db.session.commit()
    (report,) = settlement.settle_due(project.id)
    assert report.outcome == "settling" and not report.settled
    assert "held for an admin" in report.notes[0]
    db.session.refresh(project)
    assert "shows 100000 from 1 backers but held pledges total 2500" in project.settlement_hold
    assert stripe_fake.requests("/v1/refunds") == [] and stripe_fake.requests("/v1/transfers") == []
    assert db.session.get(Pledge, pledge.id).status is PledgeStatus.HELD


def test_the_cancel_page_says_why_while_a_payment_is_open(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    backer.submit(f"/pledges/{pledge.id}/change", {"amount": "40"})  # opens a $15 payment
    page = backer.client.get(f"/pledges/{pledge.id}/cancel").get_data(as_text=True)
    assert "A payment of $15.00 for a change of this pledge is still open" in page
    assert "Cancel my pledge</button>" not in page


def card_method(stripe_fake, number: str) -> str:
    """A PaymentMethod for a test card number, as Stripe.js would make it."""
    return stripe_fake.http.post(
        f"{stripe_fake.url}/v1/payment_methods",
        auth=("sk_test_offline", ""),
        timeout=10,
        data={"type": "card", "card[number]": number, "card[exp_month]": "12",
              "card[exp_year]": "2034", "card[cvc]": "123"},
    ).json()["id"]  # fmt: skip


def test_a_refund_stripe_has_as_pending_is_booked_only_once_it_succeeds(
    app,
    backer,
    project,
    stripe_fake,
    runner,
    clock,
):
    """Card 4000 0000 0000 7726: Stripe answers the refund as pending and finishes it later.
    Until then the money is still in escrow and the backer is told it is being processed;
    the sweep asks Stripe again after STRIPE_RECHECK_MINUTES and books it then."""
    card = card_method(stripe_fake, "4000000000007726")
    pledge, _ = pay_through_pages(backer, stripe_fake, project, card=card, amount="25")
    answer = backer.submit(f"/pledges/{pledge.id}/cancel", follow_redirects=True)
    assert "the payment provider is still processing it" in answer.get_data(as_text=True)
    refund = latest_pledge().refunds[0]
    assert refund.status is RefundStatus.PROCESSING and refund.stripe_refund_id
    assert latest_pledge().status is PledgeStatus.REFUNDING
    assert ledger.balance(ledger.escrow(project.id)) == 2500  # not booked yet
    assert_books_balance()

    assert "0 open payment(s) and 0 refund(s)" in runner.invoke(args=["pledges", "sweep"]).output
    import time

    time.sleep(1.2)  # Stripe finishes the refund
    clock.advance(minutes=app.config["STRIPE_RECHECK_MINUTES"] + 1)
    result = runner.invoke(args=["pledges", "sweep"])
    assert "1 refund(s) pending at Stripe re-read" in result.output
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUNDED
    assert pledge.refunds[0].status is RefundStatus.SUCCEEDED
    assert ledger.balance(ledger.escrow(project.id)) == 0
    mail = db.session.scalars(select(Outbox.kind).where(Outbox.pledge_id == pledge.id)).all()
    assert mail.count("refund_complete_backer") == 1
    assert len(stripe_fake.requests("/v1/refunds", "POST")) == 1  # asked again, never remade
    assert_books_balance()


def test_a_pending_refund_is_booked_by_its_webhook(app, client, backer, project, stripe_fake):
    card = card_method(stripe_fake, "4000000000007726")
    pledge, _ = pay_through_pages(backer, stripe_fake, project, card=card, amount="25")
    backer.submit(f"/pledges/{pledge.id}/cancel")
    refund = latest_pledge().refunds[0]
    payment = open_payment_of(pledge.id)
    done = {"id": refund.stripe_refund_id, "object": "refund", "amount": 2500,
            "payment_intent": payment.stripe_payment_intent_id, "status": "succeeded",
            "metadata": {"refund_id": str(refund.id)}}  # fmt: skip
    for n in (1, 2):
        post(client, *signed(app, event(f"evt_refund_done_{n}", "refund.updated", done)))
    assert latest_pledge().status is PledgeStatus.REFUNDED
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_an_open_payment_charged_during_an_outage_is_held_by_the_sweep(
    app,
    backer,
    project,
    stripe_fake,
    runner,
    clock,
):
    """The card was charged but neither the return page nor the webhook reached us: the sweep
    asks Stripe after a few minutes, not at the end of the 30-minute reservation."""
    backer.submit(f"/projects/{project.id}/back", {"tier_id": str(project.tiers[0].id),
                                                   "amount": "25"})  # fmt: skip
    payment = open_payment_of(latest_pledge().id)
    stripe_fake.pay(payment.stripe_payment_intent_id)  # nobody comes back
    assert latest_pledge().status is PledgeStatus.PENDING
    clock.advance(minutes=app.config["STRIPE_RECHECK_MINUTES"] + 1)
    assert "1 open payment(s)" in runner.invoke(args=["pledges", "sweep"]).output
    assert latest_pledge().status is PledgeStatus.HELD
    db.session.refresh(project)
    assert project.pledged_amount == 2500
    assert_books_balance()
