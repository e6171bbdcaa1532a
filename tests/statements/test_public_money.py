"""Where the money went: every ended project's public money page, its hash-chained ledger
export (checked by `flask ledger verify-export`), and the scheduled reconciliation with
Stripe that the page reports, alerting admins when the books and Stripe differ."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock as app_clock
from app.accounts.models import Role
from app.audit import scheduled
from app.audit.models import Reconciliation
from app.extensions import db
from app.ledger import chain
from app.ledger.models import LedgerTransaction
from app.notifications import sender
from app.notifications.models import Outbox
from app.notifications.sender import FileBackend
from app.pledges.models import Payment
from app.workflow import transaction
from tests.helpers import gen_project, gen_user
from tests.helpers.notifications import read_mail, text_of
from tests.helpers.settling import back, make_balance_available, ready_account, settle

BACKERS = ["backer0@example.com", "backer1@example.com", "backer2@example.com"]


@pytest.fixture
def paid_out(app, creator, project, stripe_fake, clock, runner):
    """Moon Lamp: $1,050.50 from three backers at 2.9% + 30¢ each, paid out."""
    stripe_fake.set_fees(usd=("2.9", 30))
    ready_account(creator, stripe_fake)
    back(app, stripe_fake, project, ["400", "350.50", "300"])
    make_balance_available(stripe_fake)
    clock.jump_past(project.deadline)
    settle(runner)
    db.session.refresh(project)
    return project


def shown(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, testid
    return match.group(1).strip()


def test_anyone_sees_where_the_money_went_and_nobody_is_named(app, paid_out):
    page = app.test_client().get(f"/projects/{paid_out.id}/money")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert shown(html, "charged") == "$1,050.50"
    assert (shown(html, "refunded"), shown(html, "refund-count")) == ("$0.00", "0 refunds")
    assert shown(html, "fee") == "$52.53"
    assert shown(html, "processing") == "$31.36"
    assert "$31.36 paid by the creator, $0.00 by the platform" in html
    assert shown(html, "paid") == "$966.61"
    assert shown(html, "transfer-date").startswith("by Stripe transfer on ")
    assert shown(html, "escrow") == "$0.00"
    assert "Not checked yet" in shown(html, "reconciled")
    for personal in (*BACKERS, "Backer 0", "Backer 1", "backer:"):
        assert personal not in html
    project_page = app.test_client().get(f"/projects/{paid_out.id}", follow_redirects=True)
    assert f'href="/projects/{paid_out.id}/money"' in project_page.get_data(as_text=True)


def test_no_money_page_before_the_end(app, project):
    response = app.test_client().get(f"/projects/{project.id}/money")
    assert response.status_code == 404
    assert "Where the money went is shown once the project has ended" in response.get_data(
        as_text=True
    )


def test_the_export_is_chained_balanced_and_anonymous(app, paid_out, tmp_path, runner):
    response = app.test_client().get(f"/projects/{paid_out.id}/ledger.jsonl")
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    text = response.get_data(as_text=True)
    lines = text.splitlines()
    txns = db.session.scalar(
        select(db.func.count()).where(LedgerTransaction.project_id == paid_out.id)
    )
    assert len(lines) == txns == 9  # 3 charges, 3 processing fees, payout, fee, fee recovery
    first = json.loads(lines[0])
    assert (first["n"], first["prev"], first["kind"]) == (1, chain.GENESIS, "charge")
    assert first["entries"] == [["backer", -40000], ["escrow", 40000]]
    assert not re.search(r"backer:\d|@example\.com|Backer \d", text)
    verified = chain.verify(lines)
    assert verified.ok and verified.count == 9
    assert verified.totals[("USD", "creator")] == 96661
    assert verified.totals[("USD", "escrow")] == 0
    assert verified.totals[("USD", "stripe:fees")] == 3136
    saved = tmp_path / "ledger.jsonl"
    saved.write_text(text)
    result = runner.invoke(args=["ledger", "verify-export", str(saved)])
    assert result.exit_code == 0, result.output
    assert "OK: 9 transaction(s), chained and balanced; last hash " + verified.head in result.output
    assert re.search(r"creator\s+\$966\.61", result.output)


def test_verify_export_finds_a_rewritten_a_removed_and_an_unbalanced_line(
    app, paid_out, tmp_path, runner
):
    lines = (
        app.test_client()
        .get(f"/projects/{paid_out.id}/ledger.jsonl")
        .get_data(as_text=True)
        .splitlines()
    )

    def check(changed: list[str]) -> str:
        path = tmp_path / "changed.jsonl"
        path.write_text("\n".join(changed) + "\n")
        result = runner.invoke(args=["ledger", "verify-export", str(path)])
        assert result.exit_code == 1
        return result.output

    rewritten = json.loads(lines[6])
    rewritten["entries"][1][1] += 100  # a larger payout, its hash left as it was
    rewritten["entries"][0][1] -= 100
    assert "line 7: its hash does not match" in check(
        [*lines[:6], json.dumps(rewritten), *lines[7:]]
    )
    assert "line 3: does not follow line 2" in check([*lines[:2], *lines[3:]])
    # Rehashed to hide the change, it breaks the next line's link instead.
    rewritten["hash"] = chain.digest(rewritten["prev"], rewritten)
    assert "line 8: does not follow line 7" in check(
        [*lines[:6], json.dumps(rewritten), *lines[7:]]
    )


def test_the_scheduler_reconciles_ended_projects_oldest_first_and_again_after_30_days(
    app, paid_out, stripe_fake, clock
):
    failed = gen_project(gen_user("dora@example.com", "Dora"), "cancelled", title="Kite")
    failed.settled_at = failed.ended_at = app_clock.now() - timedelta(days=400)
    db.session.commit()
    assert scheduled.reconcile_due() == 2  # RECONCILE_PER_RUN
    checks = db.session.scalars(select(Reconciliation).order_by(Reconciliation.id)).all()
    assert [c.project_id for c in checks] == [failed.id, paid_out.id]  # the older first
    assert all(c.ok for c in checks)
    check = checks[1]
    assert check.transactions == 9 and len(check.chain_head) == 64
    html = app.test_client().get(f"/projects/{paid_out.id}/money").get_data(as_text=True)
    assert "Reconciled with Stripe on" in shown(html, "reconciled")
    assert check.chain_head in html
    assert scheduled.reconcile_due() == 0  # nothing due again for 30 days
    clock.advance(days=30, seconds=1)
    assert scheduled.reconcile_due() == 2


def test_a_difference_is_named_on_the_page_and_every_admin_is_mailed(
    app, paid_out, stripe_fake, clock, tmp_path
):
    admin = gen_user("root@example.com", "Root", role=Role.ADMIN)
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    payment = db.session.scalars(select(Payment).order_by(Payment.id)).first()
    stripe_fake.http.post(  # a refund made in Stripe's dashboard, behind the platform's back
        f"{stripe_fake.url}/v1/refunds",
        data={"payment_intent": payment.stripe_payment_intent_id, "amount": 500},
        auth=("sk_test_offline", ""),
        timeout=10,
    ).raise_for_status()
    assert scheduled.reconcile_due() == 1
    check = db.session.scalar(select(Reconciliation))
    assert not check.ok and "is not in our books" in check.differences
    html = app.test_client().get(f"/projects/{paid_out.id}/money").get_data(as_text=True)
    assert "the books and Stripe differed in" in html
    assert "is not in our books" in shown(html, "differences")
    assert not re.search(r"backer:\d", html)
    mail = db.session.scalars(
        select(Outbox).where(Outbox.kind == "reconciliation_differs_admin")
    ).all()
    assert [m.to_address for m in mail] == [admin.email]
    mbox = tmp_path / "mail.mbox"
    assert sender.send_pending(backend=FileBackend(mbox)).failed == 0
    (message,) = [m for m in read_mail(mbox) if "its books and Stripe differ" in m["Subject"]]
    text = " ".join(text_of(message).split())  # the text part is wrapped
    assert "found 1 difference between the platform's ledger" in text
    assert f"flask ledger reconcile --project {paid_out.id}" in text
    assert f"/projects/{paid_out.id}/money" in text
    with transaction():  # the same check is not mailed twice
        scheduled.record(paid_out.id, ["again"], app_clock.now())
    assert (
        db.session.scalar(
            select(db.func.count()).where(Outbox.kind == "reconciliation_differs_admin")
        )
        == 2
    )  # a new check is a new mail
