"""A creator connects a Stripe Express account, onboards on Stripe's pages, and sees the status.

Everything goes through the real SDK to the fake Stripe server; its onboarding page is driven
with ``requests`` as a person's browser would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.payouts import services, workflows
from app.payouts.models import ConnectedAccount
from app.payouts.routes import onboarding_origin
from app.pledges import checkout
from app.pledges.services import idempotency_key
from tests.helpers import Browser, gen_user, parse_forms
from tests.helpers.payouts import ACCOUNT, CONNECT, REFRESH, RETURN, connect, onboard, text

UNREACHABLE = "We could not reach Stripe, so nothing changed. Please try again"


@pytest.fixture
def creator():
    return gen_user("cora@example.com", "Cora")


@pytest.fixture
def cora(app, creator) -> Browser:
    browser = Browser(app.test_client())
    browser.login("cora@example.com")
    return browser


def stored() -> list[ConnectedAccount]:
    db.session.expire_all()
    return list(db.session.scalars(select(ConnectedAccount).order_by(ConnectedAccount.id)))


def account_creates(stripe_fake) -> list[dict]:
    return [r for r in stripe_fake.requests("/v1/accounts", "POST") if r["path"] == "/v1/accounts"]


def link_creates(stripe_fake) -> list[dict]:
    return stripe_fake.requests("/v1/account_links", "POST")


def verify(stripe_fake, stripe_id: str) -> None:
    """Stripe's checks of the submitted details pass now (they take a while otherwise)."""
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{stripe_id}/verify", timeout=10
    ).raise_for_status()


# ---- connecting -----------------------------------------------------------------------------


def test_connect_creates_one_express_account_and_sends_the_creator_to_onboarding(
    app, cora, creator, stripe_fake
):
    page = text(cora, ACCOUNT)
    assert "Connect with Stripe" in page and "No payout account yet" in page

    response = connect(cora)

    assert response.status_code == 302
    link_url = response.headers["Location"]
    assert link_url.startswith(f"{stripe_fake.url}/connect/onboarding/")
    (create,) = account_creates(stripe_fake)
    assert create["idempotency_key"] == idempotency_key("account", creator.id)
    params = create["params"]
    assert (params["type"], params["country"], params["email"]) == (
        "express",
        "US",
        "cora@example.com",
    )
    assert params["capabilities"]["transfers"]["requested"] in ("true", True)
    (link,) = link_creates(stripe_fake)
    assert link["params"]["return_url"] == f"http://localhost{RETURN}"
    assert link["params"]["refresh_url"] == f"http://localhost{REFRESH}"
    assert link["params"]["type"] == "account_onboarding"

    (account,) = stored()
    assert account.user_id == creator.id
    assert account.stripe_account_id == link["params"]["account"]
    assert account.stripe_account_id.startswith("acct_")
    assert (account.details_submitted, account.charges_enabled, account.payouts_enabled) == (
        False,
        False,
        False,
    )
    page = text(cora, ACCOUNT)
    assert "Onboarding not finished" in page and "Continue onboarding" in page
    assert "Onboarding not finished" in text(cora, "/my/projects")


def test_the_chosen_country_is_sent_and_unsupported_ones_are_refused(app, cora, stripe_fake):
    refused = connect(cora, "KP")
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)
    assert stripe_fake.requests("/v1/") == [] and stored() == []

    assert connect(cora, "GB").status_code == 302
    (create,) = account_creates(stripe_fake)
    assert create["params"]["country"] == "GB"


def test_connecting_again_reuses_the_account(app, cora, stripe_fake):
    first = connect(cora).headers["Location"]
    again = cora.submit(ACCOUNT, action=CONNECT)  # the "Continue onboarding" button
    assert again.status_code == 302
    assert again.headers["Location"] != first  # a fresh single-use link
    assert len(account_creates(stripe_fake)) == 1
    assert len(link_creates(stripe_fake)) == 2
    assert len(stored()) == 1


def test_an_account_made_at_stripe_but_not_stored_is_found_again_by_its_key(
    app, cora, creator, stripe_fake
):
    """A crash after Stripe made the account: the retry's same key gives the same account."""
    from app.payments import gateway

    key = idempotency_key("account", creator.id)
    db.session.rollback()  # no transaction may be open across a Stripe call
    made = gateway().create_account(email="cora@example.com", country="US", key=key)
    assert connect(cora).status_code == 302
    (account,) = stored()
    assert account.stripe_account_id == made.id


def test_two_requests_racing_store_one_account(app, cora, creator, stripe_fake, monkeypatch):
    """Both found no row and asked Stripe (same key, same account); the second insert loses."""
    connect(cora)
    (first,) = stored()
    real = services.account_of
    calls = []

    def not_seen_yet(user_id):
        calls.append(user_id)
        return None if len(calls) == 1 else real(user_id)

    monkeypatch.setattr(services, "account_of", not_seen_yet)
    links = services.Links("http://localhost/refresh", "http://localhost/return")
    url = workflows.connect(creator.id, "US", links)
    assert url.startswith(f"{stripe_fake.url}/connect/onboarding/")
    (account,) = stored()
    assert account.stripe_account_id == first.stripe_account_id
    assert link_creates(stripe_fake)[-1]["params"]["account"] == first.stripe_account_id


# ---- onboarding and coming back -------------------------------------------------------------


def test_finishing_onboarding_makes_payouts_ready(app, cora, stripe_fake):
    link_url = connect(cora).headers["Location"]
    back = onboard(link_url, "complete")
    assert back == f"http://localhost{RETURN}"
    # Stripe checks the details first (see test_onboarding_stages.py); here they pass at once.
    verify(stripe_fake, stored()[0].stripe_account_id)

    response = cora.client.get(urlsplit(back).path)
    assert response.status_code == 302 and response.headers["Location"] == ACCOUNT
    page = text(cora, ACCOUNT)
    assert "payouts are ready" in page and "Ready for payouts" in page
    assert "Connect with Stripe" not in page and "Continue onboarding" not in page
    (account,) = stored()
    assert account.ready and account.charges_enabled
    assert account.updated_at > account.created_at
    assert "Payouts ready" in text(cora, "/my/projects")

    # The link was single-use: opening it again lands on our refresh page.
    stale = requests.get(link_url, timeout=10, allow_redirects=False)
    assert stale.headers["Location"] == f"http://localhost{REFRESH}"


def test_leaving_onboarding_unfinished_says_so(app, cora, stripe_fake):
    back = onboard(connect(cora).headers["Location"], "later")
    page = text(cora, urlsplit(back).path)
    assert "not finished yet" in page and "Continue onboarding" in page
    (account,) = stored()
    assert not account.ready
    assert "Onboarding not finished" in text(cora, "/my/projects")


def test_completed_without_the_browser_shows_on_the_return_page(app, cora, stripe_fake):
    connect(cora)
    (account,) = stored()
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{account.stripe_account_id}/complete", timeout=10
    ).raise_for_status()
    assert "Stripe has your details and is checking them" in text(cora, RETURN)
    assert not stored()[0].ready
    verify(stripe_fake, account.stripe_account_id)
    assert "payouts are ready" in text(cora, RETURN)
    assert stored()[0].ready


def test_refresh_gives_a_new_link(app, cora, stripe_fake):
    first = connect(cora).headers["Location"]
    onboard(first, "later")  # the link is used up

    response = cora.client.get(REFRESH)

    assert response.status_code == 302
    second = response.headers["Location"]
    assert second.startswith(f"{stripe_fake.url}/connect/onboarding/") and second != first
    assert len(link_creates(stripe_fake)) == 2
    assert len(account_creates(stripe_fake)) == 1
    assert onboard(second, "complete") == f"http://localhost{RETURN}"


def test_return_and_refresh_without_an_account_go_to_the_account_page(app, cora, stripe_fake):
    for url in (RETURN, REFRESH):
        response = cora.client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == ACCOUNT
    assert stripe_fake.requests("/v1/") == [] and stored() == []


# ---- the account.updated webhook ------------------------------------------------------------


def test_account_updated_event_stores_the_flags_once(app, cora, stripe_fake):
    connect(cora)
    (account,) = stored()
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{account.stripe_account_id}/complete", timeout=10
    ).raise_for_status()
    verify(stripe_fake, account.stripe_account_id)
    sent, _submitted = stripe_fake.events("account.updated")  # newest first: verified
    obj = sent["data"]["object"]
    assert obj["id"] == account.stripe_account_id

    assert checkout.handle_event("evt_x", "account.updated", obj) == "ok"
    assert stored()[0].ready
    assert "Payouts ready" in text(cora, "/my/projects")

    # The same event again, even with other contents, changes nothing.
    stale = {**obj, "details_submitted": False, "payouts_enabled": False}
    assert checkout.handle_event("evt_x", "account.updated", stale) == "duplicate"
    assert stored()[0].ready

    # A later event whose payload is older than what is stored does not undo it: the account
    # is read again from Stripe, which says it is ready.
    assert checkout.handle_event("evt_y", "account.updated", stale) == "ok"
    assert stored()[0].ready

    # When Stripe does disable payouts again, the next event stores that.
    stripe_fake.http.post(
        f"{stripe_fake.url}/_config/accounts/{account.stripe_account_id}/require",
        data={"fields[]": "individual.verification.document", "past_due": "true"},
        timeout=10,
    ).raise_for_status()
    assert checkout.handle_event("evt_z", "account.updated", obj) == "ok"
    (account,) = stored()
    assert not account.payouts_enabled
    assert "individual.verification.document" in account.requirements_due


def test_account_updated_for_an_unknown_account_is_ignored(app, cora, stripe_fake):
    connect(cora)
    before = [(a.id, a.stripe_account_id, a.ready) for a in stored()]
    obj = {
        "id": "acct_not_ours",
        "object": "account",
        "details_submitted": True,
        "charges_enabled": True,
        "payouts_enabled": True,
    }
    assert checkout.handle_event("evt_z", "account.updated", obj) == "unknown account"
    assert [(a.id, a.stripe_account_id, a.ready) for a in stored()] == before


# ---- Stripe failures --------------------------------------------------------------------------


def test_stripe_down_when_connecting_stores_nothing(app, cora, stripe_fake):
    stripe_fake.fault("/v1/accounts", 500)
    response = connect(cora)
    assert response.status_code == 302 and response.headers["Location"] == ACCOUNT
    page = text(cora, ACCOUNT)
    assert UNREACHABLE in page and "Connect with Stripe" in page
    assert stored() == []

    assert connect(cora).status_code == 302  # and trying again works
    assert len(stored()) == 1


def test_stripe_down_when_making_the_link_keeps_the_account_for_a_retry(app, cora, stripe_fake):
    stripe_fake.fault("/v1/account_links", 500)
    response = connect(cora)
    assert response.headers["Location"] == ACCOUNT
    assert UNREACHABLE in text(cora, ACCOUNT)
    (account,) = stored()  # Stripe did make it: keeping it is what avoids a second one

    retry = cora.submit(ACCOUNT, action=CONNECT)
    assert retry.headers["Location"].startswith(f"{stripe_fake.url}/connect/onboarding/")
    assert len(account_creates(stripe_fake)) == 1
    assert [a.stripe_account_id for a in stored()] == [account.stripe_account_id]


def test_stripe_down_on_return_and_refresh_changes_nothing(app, cora, stripe_fake):
    onboard(connect(cora).headers["Location"], "complete")
    (before,) = stored()
    snapshot = (before.details_submitted, before.payouts_enabled, before.updated_at)

    stripe_fake.fault("/v1/accounts/", 503, method="GET")
    response = cora.client.get(RETURN)
    assert response.status_code == 302 and response.headers["Location"] == ACCOUNT
    assert UNREACHABLE in text(cora, ACCOUNT)
    (after,) = stored()
    assert (after.details_submitted, after.payouts_enabled, after.updated_at) == snapshot

    stripe_fake.fault("/v1/account_links", 429)
    response = cora.client.get(REFRESH)
    assert response.headers["Location"] == ACCOUNT
    assert UNREACHABLE in text(cora, ACCOUNT)


# ---- who may do what ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(app, client, stripe_fake):
    form = parse_forms(client.get("/login").get_data(as_text=True))[0]  # then the footer's
    token = form["fields"]["csrf_token"]
    responses = [client.get(url) for url in (ACCOUNT, RETURN, REFRESH)]
    responses.append(client.post(CONNECT, data={"csrf_token": token, "country": "US"}))
    for response in responses:
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and "next=" in location.query
    assert stripe_fake.requests("/v1/") == [] and stored() == []


def test_a_post_without_csrf_token_is_refused(app, cora, stripe_fake):
    response = cora.client.post(CONNECT, data={"country": "US"})
    assert response.status_code == 400
    assert stripe_fake.requests("/v1/") == [] and stored() == []


def test_each_creator_only_ever_sees_and_changes_their_own_account(app, cora, stripe_fake):
    onboard(connect(cora).headers["Location"], "complete")
    verify(stripe_fake, stored()[0].stripe_account_id)
    cora.client.get(RETURN)
    (cora_account,) = stored()

    gen_user("dan@example.com", "Dan")
    dan = Browser(app.test_client())
    dan.login("dan@example.com")
    page = text(dan, ACCOUNT)
    assert "Connect with Stripe" in page and cora_account.stripe_account_id not in page
    assert "Connect a Stripe account to receive your payouts" in text(dan, "/my/projects")
    for url in (RETURN, REFRESH):  # nothing of Cora's is read or changed
        assert dan.client.get(url).headers["Location"] == ACCOUNT
    assert len(link_creates(stripe_fake)) == 1

    connect(dan)
    accounts = stored()
    assert len(accounts) == 2
    assert accounts[0].stripe_account_id == cora_account.stripe_account_id and accounts[0].ready
    assert accounts[1].stripe_account_id != cora_account.stripe_account_id
    assert not accounts[1].ready
    assert db.session.scalar(select(func.count()).select_from(ConnectedAccount)) == 2


def test_only_the_connect_page_may_send_its_form_on_to_stripe(app, cora, stripe_fake):
    """The connect form's answer redirects to Stripe, which form-action must allow there."""

    def directives(response) -> dict[str, str]:
        policy = response.headers["Content-Security-Policy"]
        return dict(part.strip().split(" ", 1) for part in policy.split(";"))

    page = directives(cora.client.get(ACCOUNT))
    assert page["form-action"] == f"'self' {stripe_fake.url}"
    refused = directives(connect(cora, "KP"))  # the form shown again, with its error
    assert refused["form-action"] == f"'self' {stripe_fake.url}"
    elsewhere = directives(cora.client.get("/my/projects"))
    assert elsewhere["form-action"] == "'self'"
    assert {k: v for k, v in page.items() if k != "form-action"} == {
        k: v for k, v in elsewhere.items() if k != "form-action"
    }
    with app.test_request_context():
        app.config["STRIPE_SECRET_KEY"] = "sk_test_real"
        assert onboarding_origin() == "https://connect.stripe.com"
