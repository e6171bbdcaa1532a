"""Before the deadline a backer changes or cancels; after it, late money goes back."""

from datetime import timedelta

import pytest

from app import clock
from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.pledges.domain import PledgeStatus
from tests.helpers.pledging import (
    assert_books_balance,
    latest_pledge,
    new_backer,
    open_payment_of,
    pay_through_pages,
    start,
)


def change(browser, pledge, tier, amount, **extra):
    return browser.submit(
        f"/pledges/{pledge.id}/change", {"tier_id": str(tier.id), "amount": amount, **extra}
    )


def refunds_made(stripe_fake):
    return [r for r in stripe_fake.requests("/v1/refunds", "POST")]


def test_cancel_refunds_in_full_and_releases_the_place(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    response = backer.submit(f"/pledges/{pledge.id}/cancel", follow_redirects=True)
    assert "Your pledge is cancelled" in response.get_data(as_text=True)
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUNDED
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count, project.tiers[0].claimed) == (0, 0, 0)
    (call,) = refunds_made(stripe_fake)
    assert int(call["params"]["amount"]) == 2500
    assert call["idempotency_key"] == pledge.refunds[0].idempotency_key
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_decrease_refunds_the_difference(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="50")
    response = change(backer, pledge, project.tiers[0], "30")
    assert response.status_code == 302
    pledge = latest_pledge()
    assert (pledge.status, pledge.amount, pledge.net_collected) == (PledgeStatus.HELD, 3000, 3000)
    (call,) = refunds_made(stripe_fake)
    assert int(call["params"]["amount"]) == 2000
    db.session.refresh(project)
    assert project.pledged_amount == 3000
    assert_books_balance()


def test_increase_charges_the_difference_as_a_new_payment(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    response = change(backer, pledge, project.tiers[1], "40")  # another tier, more money
    assert response.headers["Location"] == f"/pledges/{pledge.id}/pay"
    extra = open_payment_of(pledge.id)
    assert (extra.amount, extra.status.value) == (1500, "pending")
    assert latest_pledge().amount == 2500  # unchanged until the payment succeeds
    stripe_fake.pay(extra.stripe_payment_intent_id)
    backer.client.get(f"/pledges/{pledge.id}/complete")
    pledge = latest_pledge()
    assert (pledge.amount, pledge.tier_id, pledge.net_collected) == (
        4000,
        project.tiers[1].id,
        4000,
    )
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (4000, 1)
    assert (project.tiers[0].claimed, project.tiers[1].claimed) == (0, 1)
    assert_books_balance()


def test_cancel_after_an_increase_refunds_both_payments(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    change(backer, pledge, project.tiers[0], "40")
    extra = open_payment_of(pledge.id)
    stripe_fake.pay(extra.stripe_payment_intent_id)
    backer.client.get(f"/pledges/{pledge.id}/complete")
    backer.submit(f"/pledges/{pledge.id}/cancel")
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUNDED
    assert sorted(int(c["params"]["amount"]) for c in refunds_made(stripe_fake)) == [1500, 2500]
    assert_books_balance()


def test_last_day_rule_keeps_a_funded_project_funded(app, project, stripe_fake):
    project.goal_amount = 5000
    db.session.commit()
    first = new_backer(app, "a@example.com", "A")
    second = new_backer(app, "b@example.com", "B")
    pledge_a, _ = pay_through_pages(first, stripe_fake, project, amount="30")
    pay_through_pages(second, stripe_fake, project, amount="25")  # 55 of 50: funded
    project.deadline = clock.now() + timedelta(hours=23)
    db.session.commit()
    response = first.submit(f"/pledges/{pledge_a.id}/cancel", follow_redirects=True)
    assert "In the last 24 hours you cannot cancel or reduce a pledge" in response.get_data(
        as_text=True
    )
    assert db.session.get(type(pledge_a), pledge_a.id).status is PledgeStatus.HELD
    # A reduction that keeps the goal is fine.
    change(first, pledge_a, project.tiers[0], "25")
    assert latest_pledge().status is PledgeStatus.HELD
    db.session.refresh(project)
    assert project.pledged_amount == 5000
    assert refunds_made(stripe_fake)


def test_payment_completing_after_the_deadline_is_refunded(app, backer, project, stripe_fake):
    start(backer, project, amount="25")
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    project.deadline = clock.now() - timedelta(seconds=1)  # the deadline passes meanwhile
    db.session.commit()
    stripe_fake.pay(payment.stripe_payment_intent_id)
    done = backer.client.get(f"/pledges/{pledge.id}/complete", follow_redirects=True)
    assert "The project closed before your payment completed" in done.get_data(as_text=True)
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUNDED
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count, project.tiers[0].claimed) == (0, 0, 0)
    assert int(refunds_made(stripe_fake)[0]["params"]["amount"]) == 2500
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert_books_balance()


def test_no_changes_after_the_deadline(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    project.deadline = clock.now() - timedelta(seconds=1)
    db.session.commit()
    from tests.helpers import parse_forms

    token = parse_forms(backer.client.get("/").get_data(as_text=True))[0]["fields"]["csrf_token"]
    response = backer.client.post(
        f"/pledges/{pledge.id}/cancel", data={"csrf_token": token}, follow_redirects=True
    )
    assert "reached its deadline" in response.get_data(as_text=True)
    assert latest_pledge().status is PledgeStatus.HELD
    assert refunds_made(stripe_fake) == []


@pytest.mark.parametrize("status", [400, 500])
def test_refused_or_failed_refunds(app, backer, project, stripe_fake, status, runner):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    stripe_fake.fault("/v1/refunds", status=status)
    backer.submit(f"/pledges/{pledge.id}/cancel")
    pledge = latest_pledge()
    if status == 400:  # refused: a human must look; the money is still in escrow
        assert pledge.status is PledgeStatus.REFUND_FAILED
        assert pledge.refunds[0].status.value == "failed"
    else:  # a passing failure: still refunding, and the sweep finishes it
        assert pledge.status is PledgeStatus.REFUNDING
        runner.invoke(args=["pledges", "sweep"])
        assert latest_pledge().status is PledgeStatus.REFUNDED
    assert books.check() == []


def test_admin_retries_a_refused_refund(app, backer, project, stripe_fake):
    from app.accounts.models import Role
    from tests.helpers import Browser, gen_user

    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    stripe_fake.fault("/v1/refunds", status=400)
    backer.submit(f"/pledges/{pledge.id}/cancel")
    assert latest_pledge().status is PledgeStatus.REFUND_FAILED

    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    gen_user("root@example.com", "Root", role=Role.ADMIN)
    moderator = Browser(app.test_client())
    moderator.login("mo@example.com")
    assert "Retry refund" not in moderator.client.get("/moderation/").get_data(as_text=True)
    from tests.helpers import parse_forms

    token = parse_forms(moderator.client.get("/").get_data(as_text=True))[0]["fields"]["csrf_token"]
    assert (
        moderator.client.post(
            f"/moderation/pledges/{pledge.id}/retry-refund", data={"csrf_token": token}
        ).status_code
        == 403
    )

    admin = Browser(app.test_client())
    admin.login("root@example.com")
    response = admin.submit(
        "/moderation/",
        action=f"/moderation/pledges/{pledge.id}/retry-refund",
        follow_redirects=True,
    )
    assert f"Pledge #{pledge.id} is refunded." in response.get_data(as_text=True)
    pledge = latest_pledge()
    assert pledge.status is PledgeStatus.REFUNDED
    assert [r.status.value for r in pledge.refunds] == ["failed", "succeeded"]
    assert len({r.idempotency_key for r in pledge.refunds}) == 2
    assert_books_balance()
