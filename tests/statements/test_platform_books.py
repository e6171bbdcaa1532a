"""The platform's books (`flask ledger platform` and /admin/books): per month and currency,
from the ledger, adding up to the ledger's balances."""

import pytest
from sqlalchemy import select

from app import clock as app_clock
from app.accounts.models import Role
from app.audit import platform
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry
from tests.helpers import Browser, gen_project, gen_user
from tests.helpers.pledging import new_backer, pay_through_pages
from tests.helpers.settling import back, make_balance_available, ready_account, settle


@pytest.fixture
def two_months(app, creator, project, stripe_fake, clock, runner):
    """This month three backers fund Moon Lamp ($1,050.50) and two back Kite ($110.01),
    each charge paying 2.9% + 30 cents; at their deadlines, a month later, Moon Lamp pays out
    and Kite fails and refunds. Returns the two months, as YYYY-MM."""
    stripe_fake.set_fees(usd=("2.9", 30))
    kite = gen_project(gen_user("dora@example.com", "Dora"), "live", title="Kite")
    ready_account(creator, stripe_fake)
    back(app, stripe_fake, project, ["400", "350.50", "300"])
    for i, amount in enumerate(["100", "10.01"]):
        browser = new_backer(app, f"kite{i}@example.com", f"Kite {i}")
        pay_through_pages(browser, stripe_fake, kite, amount=amount)
    first = app_clock.now().strftime("%Y-%m")
    make_balance_available(stripe_fake)
    clock.jump_past(max(project.deadline, kite.deadline))
    settle(runner)
    return first, app_clock.now().strftime("%Y-%m")


def test_each_month_shows_what_came_in_and_went_out(two_months):
    first, second = platform.months()
    assert (first.month, first.currency, second.month) == (*two_months[:1], "USD", two_months[1])
    assert (first.charged, first.refunded, first.fees_earned) == (105050 + 11001, 0, 0)
    assert first.processing_paid == 1190 + 1046 + 900 + 320 + 59
    assert first.processing_on_refunds == 320 + 59  # Kite's: its pledges ended refunded
    assert first.escrow_end == 105050 + 11001
    # At the deadlines: Kite's $110.01 goes back; Moon Lamp is paid, less 5% and its fees.
    assert (second.charged, second.refunded) == (0, 11001)
    assert second.fees_earned == 5253
    assert second.processing_recovered == 3136  # deducted from Moon Lamp's payout
    assert second.transfers == 105050 - 5253 - 3136
    assert second.escrow_end == 0
    assert first.net_income + second.net_income == 5253 - 379


def test_the_months_add_up_to_the_ledgers_balances(two_months):
    rows = platform.months()
    assert sum(r.fees_earned for r in rows) == ledger.balance(ledger.PLATFORM_FEES)
    assert sum(r.processing_paid for r in rows) == ledger.balance(ledger.STRIPE_FEES)
    assert sum(r.processing_cost for r in rows) == -ledger.balance(ledger.PLATFORM_PROCESSING)
    escrow = db.session.scalar(
        select(db.func.sum(LedgerEntry.amount)).where(LedgerEntry.account.like("escrow:%"))
    )
    assert rows[-1].escrow_end == int(escrow)
    later = platform.months(two_months[1])
    assert later == rows[1:] and later[0].escrow_end == 0  # the true balance, from any month


def test_the_command_prints_the_table(two_months, runner):
    first = two_months[0]
    result = runner.invoke(args=["ledger", "platform", "--from", first, "--to", first])
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header.split()[:3] == ["month", "currency", "charged"]
    assert row.split()[:3] == [first, "USD", "$1,160.51"]
    assert "$35.15" in row and "$3.79" in row
    bad = runner.invoke(args=["ledger", "platform", "--from", "2026-13"])
    assert bad.exit_code == 2 and "a month is written YYYY-MM" in bad.output
    empty = runner.invoke(args=["ledger", "platform", "--from", "2999-01"])
    assert empty.output == "No money has moved in that period.\n"


def test_the_admin_page_shows_the_same_figures(app, two_months):
    admin = gen_user("root@example.com", "Root", role=Role.ADMIN)
    browser = Browser(app.test_client())
    browser.login(admin.email)
    html = browser.client.get("/admin/books").get_data(as_text=True)
    assert html.count('data-testid="month-row"') == 2
    assert "$52.53" in html and "$35.15" in html and "$31.36" in html and "$3.79" in html
    assert 'href="/admin/books"' in html  # in the admin's menu
    response = browser.client.get("/admin/books?from=2026-12&to=2026-11")  # back to front
    assert response.status_code == 400
    assert "The first month comes after the last." in response.get_data(as_text=True)
    assert browser.client.get("/admin/books?from=december").status_code == 400
