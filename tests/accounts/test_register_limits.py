"""Sign ups are limited per client IP, successful or not, so accounts are not made by the bulk."""

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from tests.helpers import PASSWORD, Browser

LIMIT = 10  # the default REGISTER_LIMIT_PER_IP, "10 per hour"


def register(browser, email, password=PASSWORD):
    return browser.submit(
        "/register",
        {"email": email, "display_name": "Newcomer", "password": password, "confirm": password},
    )


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_sign_ups_from_one_ip_beyond_the_limit_answer_429_and_make_no_account(app):
    assert app.config["REGISTER_LIMIT_PER_IP"] == f"{LIMIT} per hour"
    refused = Browser(app.test_client())
    assert register(refused, "bad@example.com", password="short").status_code == 200  # counts
    for i in range(LIMIT - 1):
        browser = Browser(app.test_client())  # a new visitor each time: only the IP is shared
        assert register(browser, f"user{i}@example.com").status_code == 302  # check your inbox
    assert user_count() == LIMIT - 1

    response = register(Browser(app.test_client()), "one-too-many@example.com")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many sign ups from your network" in page
    assert "Traceback" not in page
    assert user_count() == LIMIT - 1
    # The form itself still shows; only sending it is limited.
    assert app.test_client().get("/register").status_code == 200


def test_the_limit_is_per_ip(app):
    for i in range(LIMIT):
        assert register(Browser(app.test_client()), f"user{i}@example.com").status_code == 302
    assert register(Browser(app.test_client()), "late@example.com").status_code == 429

    other_ip = Browser(app.test_client())
    other_ip.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert register(other_ip, "late@example.com").status_code == 302
    assert db.session.scalar(select(User).where(User.email == "late@example.com")) is not None
