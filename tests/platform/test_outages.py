"""Outages: while the database or Stripe is down, pages say so truthfully, with 503 and
Retry-After, and render without touching the database (issue 21.1)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.errors.handlers import PAID_MESSAGE, STRIPE_MESSAGE
from app.payments.gateway import GatewayError
from app.pledges import services as pledge_services
from tests.helpers import gen_user


def _dead_url(live_url: str, tmp_path) -> str:
    """A database URL of the same kind that cannot be reached."""
    if live_url.startswith("postgresql"):
        return "postgresql+psycopg://postgres@127.0.0.1:9/backstage?connect_timeout=2"
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}"


def _signed_in_without_database(browser, test_config, instance_dir, tmp_path, **config):
    """A client signed in as Ada, talking to the same site whose database is now gone."""
    gen_user()
    browser.login()
    cookie = browser.client.get_cookie("session").value
    url = _dead_url(test_config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    dead: Flask = create_app(
        {**test_config, "SQLALCHEMY_DATABASE_URI": url, "DATABASE_URL": url, **config},
        instance_path=instance_dir,
    )
    client = dead.test_client()
    client.set_cookie("session", cookie)
    return client


@pytest.fixture
def dead_client(app, browser, test_config, instance_dir, tmp_path):
    # Forms are posted without a token here; the CSRF check has its own test below.
    return _signed_in_without_database(
        browser, test_config, instance_dir, tmp_path, WTF_CSRF_ENABLED=False
    )


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_signed_in_user_gets_the_sites_503_page_while_the_database_is_down(dead_client):
    response = dead_client.get("/my/pledges")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = _text(response)
    assert "We cannot reach our database just now. Try again in a minute." in page
    assert 'class="navbar-brand' in page  # the site's own page, not the server's bare one
    assert '<a class="btn btn-primary" href="/my/pledges">Try again</a>' in page
    assert "Internal Server Error" not in page


def test_a_form_sent_during_the_outage_does_not_claim_nothing_happened(dead_client):
    response = dead_client.post("/pledges/1/cancel", data={"version": "1"})
    assert response.status_code == 503
    page = _text(response)
    assert "a payment or refund already on its way is completed automatically" in page
    assert "Nothing was changed" not in page


def test_the_return_page_from_stripe_says_the_payment_will_be_confirmed(dead_client):
    response = dead_client.get("/pledges/1/complete")
    assert response.status_code == 503
    assert PAID_MESSAGE in _text(response).replace("\n", " ")


def test_a_refused_form_during_the_outage_gets_its_own_page(
    app, browser, test_config, instance_dir, tmp_path
):
    client = _signed_in_without_database(browser, test_config, instance_dir, tmp_path)
    response = client.post("/pledges/1/cancel", data={"version": "1"})  # no CSRF token
    assert response.status_code == 400
    assert "The CSRF token is missing." in _text(response)


def test_json_clients_get_a_json_503(dead_client):
    response = dead_client.get("/my/pledges", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.get_json()["message"].startswith("We cannot reach our database")


def test_a_database_failure_mid_request_keeps_the_signed_in_user_in_the_layout(
    app, browser, monkeypatch
):
    gen_user(name="Ada Lovelace")
    browser.login()

    def connection_lost(user_id):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(pledge_services, "pledges_of", connection_lost)
    response = browser.client.get("/my/pledges")
    assert response.status_code == 503
    page = _text(response)
    assert "Ada Lovelace" in page  # read from memory: no query after the connection died
    assert "We cannot reach our database just now" in page


def test_a_stripe_outage_the_view_did_not_handle_answers_503(app, browser):
    @app.route("/_test/stripe-down")
    def stripe_down():
        raise GatewayError("connection refused", "api_connection_error", retryable=True)

    response = browser.client.get("/_test/stripe-down")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert STRIPE_MESSAGE in _text(response).replace("\n", " ")


def test_a_programming_error_in_sql_is_still_a_500(app, browser):
    @app.route("/_test/bad-sql")
    def bad_sql():
        from app.extensions import db

        db.session.execute(sa.text("SELECT no_such_column FROM users"))

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = browser.client.get("/_test/bad-sql")
    assert response.status_code == 500
    assert "Try again in a moment" in _text(response)
