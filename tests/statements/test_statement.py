"""The statement page: its figures for real settled projects, and who may read it."""

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.payouts.models import Payout
from app.pledges.models import Payment, Refund
from app.statements import services
from tests.helpers import Browser, gen_project, project_path
from tests.helpers.statements import login


def cell(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


def page_of(browser, project, **params):
    response = browser.client.get(f"/projects/{project.id}/statement", query_string=params)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_paid_out_project_statement(app, paid_out, owner_browser):
    html = page_of(owner_browser, paid_out)
    payout = db.session.scalar(select(Payout))
    assert (payout.gross, payout.fee, payout.net) == (106550, 5328, 101222)
    assert cell(html, "gross") == "$1,065.50"
    assert cell(html, "refunded") == "$0.00"
    assert cell(html, "refund-count") == "0 refunds"
    assert cell(html, "fee") == "$53.28"
    assert cell(html, "payout") == "$1,012.22"
    assert cell(html, "escrow-left") == "$0.00"
    assert "succeeded" in cell(html, "payout-status")
    assert cell(html, "transfer-id") == payout.stripe_transfer_id
    assert payout.stripe_transfer_id.startswith("tr_")
    assert "to the cent" in cell(html, "balanced")
    # Ledger totals by account: backers paid in, escrow is empty, creator and fee got theirs.
    accounts = re.sub(r"\s+", " ", html.split('data-testid="accounts"')[1].split("</table>")[0])
    assert 'backers (3 accounts)</td> <td class="text-end">-$1,065.50' in accounts
    # Each account by name, with its ledger code.
    code, amount = '<code class="text-secondary">', '</code></td> <td class="text-end">'
    assert f"Escrow {code}escrow:{paid_out.id}{amount}$0.00" in accounts
    assert f"Creator {code}creator:{paid_out.id}{amount}$1,012.22" in accounts
    assert f"Platform fees {code}platform:fees{amount}$53.28" in accounts
    assert cell(html, "by-status") == "collected: 3"
    # One row per pledge with its backer, tier, shipping and PaymentIntent.
    assert html.count('data-testid="pledge-row"') == 3
    for payment in db.session.scalars(select(Payment)):
        assert payment.stripe_payment_intent_id in html
    assert "Cy" in html and "$15.00 to DE" in html and "Lamp" in html


def test_failed_project_statement(app, failed, owner_browser):
    html = page_of(owner_browser, failed)
    assert cell(html, "gross") == "$360.01"
    assert cell(html, "refunded") == "$360.01"
    assert cell(html, "refund-count") == "3 refunds"
    assert cell(html, "fee") == "$0.00"
    assert cell(html, "payout") == "$0.00"
    assert cell(html, "escrow-left") == "$0.00"
    assert "to the cent" in cell(html, "balanced")
    assert cell(html, "by-status") == "refunded: 3"
    refunds = list(db.session.scalars(select(Refund)))
    assert len(refunds) == 3
    for refund in refunds:
        assert refund.stripe_refund_id.startswith("re_") and refund.stripe_refund_id in html
    statement = services.statement(failed)
    assert (statement.gross, statement.refunded, statement.kept) == (36001, 36001, 0)
    assert statement.payout is None and statement.balanced
    totals = {t.account: t.amount for t in statement.accounts}
    assert totals == {"backers": 0, f"escrow:{failed.id}": 0}


# ---- who may read it ----------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(app, failed, client):
    for url in (f"/projects/{failed.id}/statement", f"/projects/{failed.id}/statement/backers.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "status"), [(Role.USER, 403), (Role.MODERATOR, 200), (Role.ADMIN, 200)]
)
def test_others_moderators_and_admins(app, failed, role, status):
    browser = login(app, f"{role.value}@example.com", role=role)
    for url in (f"/projects/{failed.id}/statement", f"/projects/{failed.id}/statement/backers.csv"):
        assert browser.client.get(url).status_code == status


def test_a_backer_of_the_project_is_not_let_in(app, failed):
    browser = Browser(app.test_client())
    browser.login("bea@example.com")
    assert browser.client.get(f"/projects/{failed.id}/statement").status_code == 403


def test_hidden_projects_are_not_found_for_others(app, creator):
    draft = gen_project(creator, "draft", title="Secret")
    other = login(app, "eve@example.com")
    assert other.client.get(f"/projects/{draft.id}/statement").status_code == 404
    assert other.client.get(f"/projects/{draft.id}/statement/backers.csv").status_code == 404
    assert other.client.get("/projects/999999/statement").status_code == 404


def test_no_statement_before_the_end(app, creator, project, owner_browser):
    for status_project in (project, gen_project(creator, "submitted", title="Queued")):
        response = owner_browser.client.get(f"/projects/{status_project.id}/statement")
        assert response.status_code == 404
        assert "no statement yet" in response.get_data(as_text=True)
        csv = owner_browser.client.get(f"/projects/{status_project.id}/statement/backers.csv")
        assert csv.status_code == 404


def test_cancelled_project_without_pledges_has_a_statement(app, creator, owner_browser):
    cancelled = gen_project(creator, "cancelled", title="Gone")
    html = page_of(owner_browser, cancelled)
    assert cell(html, "gross") == "$0.00"
    assert "No pledges." in html and "No money has moved." in html


def test_statement_links(app, failed, owner_browser):
    show = owner_browser.client.get(project_path(failed)).get_data(as_text=True)
    assert f'href="/projects/{failed.id}/statement"' in show
    mine = owner_browser.client.get("/my/projects").get_data(as_text=True)
    assert f'href="/projects/{failed.id}/statement"' in mine
    moderator = login(app, "mod@example.com", role=Role.MODERATOR)
    review = moderator.client.get(f"/moderation/projects/{failed.id}").get_data(as_text=True)
    assert f'href="/projects/{failed.id}/statement"' in review
    assert f'href="/projects/{failed.id}/statement"' in moderator.client.get(
        project_path(failed)
    ).get_data(as_text=True)
    stranger = login(app, "eve@example.com")
    assert "/statement" not in stranger.client.get(project_path(failed)).get_data(as_text=True)


def test_no_link_while_live(app, project, owner_browser):
    assert "/statement" not in owner_browser.client.get(project_path(project)).get_data(
        as_text=True
    )
