"""Who is told what, and when: messages exist exactly when the state change committed."""

from __future__ import annotations

from sqlalchemy import event, func, select

from app.accounts.models import Role
from app.extensions import db
from app.notifications import sender
from app.notifications import services as notifications
from app.notifications.models import Outbox, OutboxStatus
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects import services as projects
from app.settlement import services as settlement
from tests.helpers import gen_project, gen_user, project_path
from tests.helpers.notifications import (
    clear_outbox,
    gen_held_pledges,
    html_of,
    kinds,
    outbox,
    read_mail,
    text_of,
    words_of,
)
from tests.helpers.settling import back, make_balance_available, ready_account, settle

BACKER_EMAILS = {"backer0@example.com", "backer1@example.com", "backer2@example.com"}


def by_address(messages) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in messages:
        found.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return found


def test_funded_then_paid_out_tells_the_creator_and_every_backer(
    app, creator, project, stripe_fake, clock, runner, file_backend, mail_file
):
    account = ready_account(creator, stripe_fake, complete=False)
    back(app, stripe_fake, project, ["400", "350.50", "300"])  # $1,050.50 of $1,000
    assert kinds() == {"pledge_receipt_backer": 3}  # one receipt per pledge
    clear_outbox()
    clock.jump_past(project.deadline)
    assert "funded" in settle(runner)  # the payout waits for onboarding

    assert kinds() == {"project_funded_creator": 1, "project_funded_backer": 3}
    assert {r.to_address for r in outbox("project_funded_backer")} == BACKER_EMAILS
    assert {r.amount for r in outbox("project_funded_backer")} == {40000, 35050, 30000}
    (to_creator,) = outbox("project_funded_creator")
    assert (to_creator.to_address, to_creator.amount) == ("creator@example.com", 105050)

    report = sender.send_pending(backend=file_backend)
    assert (report.sent, report.failed) == (4, 0)
    assert {r.status for r in outbox()} == {OutboxStatus.SENT}

    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{account.stripe_account_id}/complete", timeout=10
    )
    account.details_submitted = account.payouts_enabled = True
    db.session.commit()
    make_balance_available(stripe_fake)
    clock.advance(minutes=10)  # past the settlement lease
    assert "paid_out" in settle(runner)
    assert kinds() == {
        "project_funded_creator": 1,
        "project_funded_backer": 3,
        "payout_sent_creator": 1,
        "pledge_collected_backer": 3,
    }
    assert sender.send_pending(backend=file_backend).sent == 4

    mail = by_address(read_mail(mail_file))
    assert set(mail) == BACKER_EMAILS | {"creator@example.com"}
    funded, paid = mail["creator@example.com"]
    assert funded["Subject"] == "Moon Lamp is funded: $1,050.50 pledged"
    body = text_of(funded)
    assert "Hello Cora," in body
    assert "fee of $52.53, $997.97 will be" in body  # 5%, half up
    assert f"http://127.0.0.1:5000{project_path(project)}\n" in body  # the readable URL
    assert paid["Subject"] == "Moon Lamp: $997.97 paid out to you"
    assert "  Platform fee   $52.53\n" in text_of(paid)  # a table in the text part
    assert ">Platform fee</th><td" in html_of(paid)  # and in the HTML part

    pledge = db.session.scalar(select(Pledge).join(Pledge.backer).where(Pledge.amount == 35050))
    funded, collected = mail[pledge.backer.email]
    assert funded["Subject"] == "Moon Lamp is funded"
    assert "your pledge of $350.50" in text_of(funded)
    assert f"http://127.0.0.1:5000/pledges/{pledge.id}" in text_of(funded)
    assert collected["Subject"] == "Moon Lamp: your pledge of $350.50 was collected"


def test_failed_project_tells_every_backer_of_the_refund(
    app, creator, project, stripe_fake, clock, runner, file_backend, mail_file
):
    back(app, stripe_fake, project, ["100", "250", "10.01"])
    clear_outbox()
    clock.jump_past(project.deadline)
    assert "failed, refunds planned 3, made 3" in settle(runner)

    assert kinds() == {
        "project_failed_creator": 1,
        "refund_planned_backer": 3,
        "refund_complete_backer": 3,  # one per pledge, once its refunds went through
    }
    assert {r.amount for r in outbox("refund_complete_backer")} == {10000, 25000, 1001}
    assert settle(runner) == "Nothing to settle.\n"
    assert len(outbox()) == 7  # settling again adds nothing

    assert sender.send_pending(backend=file_backend).sent == 7
    mail = by_address(read_mail(mail_file))
    (to_creator,) = mail["creator@example.com"]
    assert to_creator["Subject"] == "Moon Lamp did not reach its goal"
    assert "$360.01 pledged of its $1,000.00 goal" in words_of(to_creator)
    backer = next(r for r in outbox("refund_planned_backer") if r.amount == 1001)
    planned, complete = mail[backer.to_address]
    assert planned["Subject"] == "Your refund of $10.01 for Moon Lamp is on its way"
    assert "The project did not reach its goal." in text_of(planned)
    assert complete["Subject"] == "Your refund of $10.01 for Moon Lamp is complete"


def test_cancelled_and_suspended_projects_tell_creator_and_backers(
    app, creator, project, stripe_fake, runner, file_backend, mail_file
):
    back(app, stripe_fake, project, ["100", "200"])
    other = gen_project(creator, "live", title="Sun Lamp")
    moderator = gen_user("mod@example.com", "Mo", role=Role.MODERATOR)
    clear_outbox()
    projects.cancel(project, creator, "Factory closed.")
    projects.suspend(other, moderator, "Breaks the rules.")
    db.session.commit()
    settle(runner)

    assert kinds() == {
        "project_stopped_creator": 2,
        "refund_planned_backer": 2,
        "refund_complete_backer": 2,
    }
    sender.send_pending(backend=file_backend)
    subjects = {m["Subject"]: m for m in read_mail(mail_file)}
    cancelled = text_of(subjects["Moon Lamp was cancelled"])
    assert "Reason: Factory closed." in cancelled
    assert "($300.00 had been pledged)" in cancelled
    assert "Reason: Breaks the rules." in text_of(subjects["Sun Lamp was suspended"])
    assert "The creator cancelled the project." in text_of(
        subjects["Your refund of $100.00 for Moon Lamp is on its way"]
    )


def test_a_pledge_refunded_in_parts_is_told_once_when_the_last_part_is_back(
    app, creator, project, stripe_fake
):
    back(app, stripe_fake, project, ["25"])
    pledge = db.session.scalar(select(Pledge))
    pledge_services.set_status(pledge, PledgeStatus.REFUNDING, "Cancelled by the backer.")
    first = pledge_services.plan_refunds(pledge, 1000, "cancelled_by_backer")
    second = pledge_services.plan_refunds(pledge, 1500, "cancelled_by_backer")
    ids = [r.id for r in first + second]
    assert len(ids) == 2
    db.session.commit()

    clear_outbox()  # the receipt

    checkout.execute_refund(ids[0])
    assert outbox() == []  # $15 is still in escrow
    checkout.execute_refund(ids[1])
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).status is PledgeStatus.REFUNDED
    (row,) = outbox()
    assert (row.kind, row.pledge_id, row.amount) == ("refund_complete_backer", pledge.id, 2500)


def test_nothing_is_queued_unless_the_change_commits(app, creator, project, clock):
    gen_held_pledges(project, 5, amount=30_000)  # $1,500 of $1,000: funded
    clock.jump_past(project.deadline)
    settlement.close_if_due(project, clock.now())
    assert project.status.value == "funded"
    assert db.session.scalar(select(func.count()).select_from(Outbox)) == 6  # in this transaction
    db.session.rollback()  # the settlement step fails before its commit
    assert db.session.scalar(select(func.count()).select_from(Outbox)) == 0
    db.session.refresh(project)
    assert project.status.value == "live"


def test_the_same_news_twice_is_queued_once(app, creator, project):
    gen_held_pledges(project, 3)
    notifications.project_funded(project)
    notifications.project_funded(project)  # a resumed settlement, say
    db.session.commit()
    assert len(outbox()) == 4


def test_every_backer_is_queued_in_a_few_statements(app, creator, project, clock):
    """Set-based: the number of statements does not grow with the number of backers."""
    gen_held_pledges(project, 3000, amount=100)
    clock.jump_past(project.deadline)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        settlement.close_if_due(project, clock.now())
        planned = settlement.plan_refunds(project)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.commit()
    assert planned == 0  # funded: nothing to refund
    assert len([s for s in statements if "INSERT INTO outbox" in s]) == 2
    assert len(statements) < 20
    assert kinds() == {"project_funded_creator": 1, "project_funded_backer": 3000}
