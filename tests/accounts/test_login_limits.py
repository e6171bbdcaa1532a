"""Guessing passwords is slowed per account and per IP; real users are not locked out."""

import pytest

from tests.helpers import PASSWORD, Browser, gen_user


@pytest.fixture
def app(app):
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="3 per minute", LOGIN_LIMIT_PER_IP="6 per minute")
    return app


def test_failed_logins_for_one_account_answer_429(browser):
    gen_user()
    for _ in range(3):
        assert browser.login(password="wrong password!").status_code == 200
    response = browser.login(password="wrong password!")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed log in attempts for this account" in page
    assert "Traceback" not in page
    # Even the right password waits: the limit is on the account, not the guesses' content.
    assert browser.login().status_code == 429


def test_account_limit_does_not_touch_other_accounts(browser):
    gen_user()
    gen_user("bob@example.com", "Bob")
    for _ in range(3):
        browser.login(password="wrong password!")
    assert browser.login("bob@example.com").status_code == 302


def test_successful_logins_do_not_count(app):
    gen_user()
    for _ in range(5):
        browser = Browser(app.test_client())
        assert browser.login().status_code == 302


def test_failed_logins_from_one_ip_answer_429_across_accounts(browser):
    for i in range(6):
        assert browser.login(f"user{i}@example.com", "wrong password!").status_code == 200
    response = browser.login("someone-else@example.com", "wrong password!")
    assert response.status_code == 429
    assert "from your network" in response.get_data(as_text=True)


def test_limit_is_per_ip(app, browser):
    for i in range(6):
        browser.login(f"user{i}@example.com", "wrong password!")
    gen_user()
    other_ip = Browser(app.test_client())
    other_ip.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert other_ip.login(password=PASSWORD).status_code == 302
