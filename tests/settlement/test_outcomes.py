"""At the deadline: funded projects pay their creator minus the fee, the rest refund all."""

import pytest
from sqlalchemy import select

from app.audit import books
from app.extensions import db
from app.ledger import services as ledger
from app.payouts.models import Payout
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.settlement.runner import BALANCE_NOT_YET_AVAILABLE
from tests.helpers import Browser
from tests.helpers.settling import back, make_balance_available, ready_account, settle


def pledges_of(project):
    db.session.expire_all()
    return list(db.session.scalars(select(Pledge).where(Pledge.project_id == project.id)))


def transfers(stripe_fake):
    return [r for r in stripe_fake.requests("/v1/transfers", "POST")]


def refunds(stripe_fake):
    return [r for r in stripe_fake.requests("/v1/refunds", "POST")]


def test_funded_project_pays_the_creator_minus_the_fee(
    app, creator, project, stripe_fake, clock, runner
):
    account = ready_account(creator, stripe_fake)
    back(app, stripe_fake, project, ["400", "350.50", "300"])  # $1,050.50 of $1,000
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    output = settle(runner)
    assert f"project {project.id} (Moon Lamp): paid_out" in output
    db.session.refresh(project)
    assert project.status.value == "paid_out" and project.settled_at is not None
    payout = db.session.scalar(select(Payout))
    assert (payout.gross, payout.fee, payout.net) == (105050, 5253, 99797)  # 5%, half up
    (call,) = transfers(stripe_fake)
    assert int(call["params"]["amount"]) == 99797
    assert call["params"]["destination"] == account.stripe_account_id
    assert call["params"]["transfer_group"] == f"project-{project.id}"
    assert call["idempotency_key"] == f"{payout.idempotency_key}-a0"
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.COLLECTED}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert ledger.balance(ledger.creator(project.id)) == 99797
    assert ledger.balance(ledger.PLATFORM_FEES) == 5253
    assert refunds(stripe_fake) == []
    assert books.check() == []


def test_failed_project_refunds_every_backer(app, creator, project, stripe_fake, clock, runner):
    back(app, stripe_fake, project, ["100", "250", "10.01"])
    clock.jump_past(project.deadline)
    output = settle(runner)
    assert "failed, refunds planned 3, made 3" in output
    db.session.refresh(project)
    assert project.status.value == "failed" and project.settled_at is not None
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDED}
    made = refunds(stripe_fake)
    assert sorted(int(r["params"]["amount"]) for r in made) == [1001, 10000, 25000]
    assert len({r["idempotency_key"] for r in made}) == 3
    assert transfers(stripe_fake) == []
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert books.check() == []
    assert settle(runner) == "Nothing to settle.\n"  # a second run does nothing


@pytest.mark.parametrize(("delta", "outcome"), [(-1, "failed"), (0, "paid_out"), (1, "paid_out")])
def test_goal_boundaries(app, creator, project, stripe_fake, clock, runner, delta, outcome):
    ready_account(creator, stripe_fake)
    project.goal_amount = 5000 - delta  # the $50 total is the goal plus delta
    db.session.commit()
    back(app, stripe_fake, project, ["50"])
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    settle(runner)
    db.session.refresh(project)
    assert project.status.value == outcome
    assert books.check() == []


def test_payout_waits_for_onboarding_then_the_balance(
    app, creator, project, stripe_fake, clock, runner
):
    account = ready_account(creator, stripe_fake, complete=False)
    back(app, stripe_fake, project, ["1000"])
    clock.jump_past(project.deadline)
    assert "payout pending: creator onboarding, work left" in settle(runner)
    db.session.refresh(project)
    assert project.status.value == "funded"

    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{account.stripe_account_id}/complete", timeout=10
    )
    account.details_submitted = account.payouts_enabled = True
    db.session.commit()
    assert "pending: balance not yet available" in settle(runner)  # the money is pending
    payout = db.session.scalar(select(Payout))
    # What the creator reads: why the money waits, not the platform's own balance.
    assert payout.last_error == BALANCE_NOT_YET_AVAILABLE
    # The creator reads why, in their language.
    creator.locale = "zh_Hans_CN"
    db.session.commit()
    owner = Browser(app.test_client())
    owner.login(creator.email)
    page = owner.client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert "银行卡付款要在付款几天后才能转出" in page
    make_balance_available(stripe_fake)
    clock.advance(minutes=10)  # past the lease
    assert "paid_out" in settle(runner)
    assert len(transfers(stripe_fake)) == 1
    assert books.check() == []


def test_cancelled_and_suspended_projects_refund_everyone(
    app, creator, project, stripe_fake, runner
):
    from app.projects import services as projects

    back(app, stripe_fake, project, ["100", "200"])
    projects.cancel(project, creator, "Factory closed.")
    db.session.commit()
    assert "cancelled, refunds planned 2, made 2, settled" in settle(runner)
    assert {p.status for p in pledges_of(project)} == {PledgeStatus.REFUNDED}
    assert {p.end_reason for p in pledges_of(project)} == {"The creator cancelled the project."}
    assert ledger.balance(ledger.escrow(project.id)) == 0
    assert books.check() == []


def test_dry_run_changes_nothing(app, creator, project, stripe_fake, clock, runner):
    back(app, stripe_fake, project, ["100"])
    clock.jump_past(project.deadline)
    assert "would fail" in settle(runner, "--dry-run")
    db.session.refresh(project)
    assert project.status.value == "live"
    assert refunds(stripe_fake) == []


def test_only_the_named_project(app, creator, project, stripe_fake, clock, runner):
    from tests.helpers import gen_project

    other = gen_project(creator, "live", title="Other")
    clock.jump_past(max(project.deadline, other.deadline))
    output = settle(runner, "--project", str(other.id))
    assert f"project {other.id}" in output and f"project {project.id} " not in output
    db.session.refresh(project)
    assert project.status.value == "live"


def test_the_creator_sees_the_payout_pending_then_paid(
    app, creator, project, stripe_fake, clock, runner
):
    from tests.helpers import Browser

    back(app, stripe_fake, project, ["1000"])
    clock.jump_past(project.deadline)
    settle(runner)
    cora = Browser(app.test_client())
    cora.login("creator@example.com")
    page = cora.client.get("/my/projects").get_data(as_text=True)
    assert "Your payout: <strong>$950.00</strong> (after the $50.00 platform fee)" in page
    assert "pending</span>: The creator has not finished Stripe onboarding." in page
    ready_account(creator, stripe_fake)
    make_balance_available(stripe_fake)
    clock.advance(minutes=10)
    settle(runner)
    page = cora.client.get("/my/projects").get_data(as_text=True)
    assert 'data-testid="payout-status">paid</span>' in page


def test_one_projects_error_does_not_hold_back_the_others(
    app, creator, project, stripe_fake, clock, runner, monkeypatch
):
    from app.settlement import runner as settlement_runner
    from tests.helpers import gen_project

    other = gen_project(creator, "live", title="Other")
    real = settlement_runner.settle_one

    def flaky(pid, progress=None):
        if pid == project.id:
            raise RuntimeError("unexpected")
        return real(pid, progress)

    monkeypatch.setattr(settlement_runner, "settle_one", flaky)
    clock.jump_past(max(project.deadline, other.deadline))
    output = settle(runner)
    assert f"project {project.id} (): interrupted" in output
    db.session.refresh(other)
    assert other.status.value == "failed"
