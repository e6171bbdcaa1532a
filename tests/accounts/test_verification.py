"""E-mail verification (issue 13.1): sign-up mails a signed, expiring, single-use link and logs
no one in; it answers the same whatever the address; an unverified account may browse and back
but not start a project, set up payouts or change its address, and is told so each time with
"send the link again"."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from tests.helpers import PASSWORD, Browser, gen_user
from tests.helpers.notifications import kinds, mailed_link, mailed_message, outbox, words_of

FIELDS = {"display_name": "Newcomer", "password": PASSWORD, "confirm": PASSWORD}


def sign_up(client, email: str, **fields):
    return Browser(client).submit("/register", {**FIELDS, "email": email, **fields})


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def headers_of(response) -> list:
    """The headers, the session cookie's value blanked: it holds the visitor's own CSRF token
    and nothing else (``session_holds_only_csrf``)."""
    return sorted(
        (name, re.sub(r"^session=[^;]*", "session=", value) if name == "Set-Cookie" else value)
        for name, value in response.headers.items()
    )


def session_holds_only_csrf(client) -> bool:
    with client.session_transaction() as session:
        return set(session) == {"csrf_token"}


def answer_of(client, email: str, url: str = "/register", **fields) -> tuple:
    """What a visitor sees of a sign-up (or of ``url``'s form): the POST's status, headers and
    body, then the page it leads to, CSRF tokens blanked."""
    response = Browser(client).submit(url, {**FIELDS, "email": email, **fields})
    page = client.get(response.headers["Location"])
    assert session_holds_only_csrf(client)
    return (
        response.status_code,
        headers_of(response),
        response.get_data(),
        page.status_code,
        headers_of(page),
        without_csrf(page.get_data(as_text=True)),
    )


def logged_in(client) -> bool:
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


def user(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_sign_up_answers_byte_for_byte_the_same_whatever_the_address(app):
    gen_user("ada@example.com", "Ada")
    taken = answer_of(app.test_client(), "ada@example.com")
    new = answer_of(app.test_client(), "zed@example.com")
    assert taken == new
    assert taken[0] == 302 and taken[3] == 200
    assert "Check your inbox" in taken[5]
    assert "already exists" not in taken[5]
    # The owner of the taken address is told; the new address gets its link.
    assert kinds() == {"sign_up_attempt": 1, "verify_email": 1}
    told = words_of(mailed_message("ada@example.com", "sign_up_attempt"))
    assert "Someone tried to create a Backstage account with your e-mail address" in told
    assert "http://127.0.0.1:5000/login" in told and "/password/forgot" in told
    assert user("ada@example.com").display_name == "Ada"  # nothing of the account changed


def test_a_taken_address_in_any_case_or_spacing_answers_the_same(app):
    gen_user("ada@example.com", "Ada")
    assert answer_of(app.test_client(), "  ADA@Example.com ") == answer_of(
        app.test_client(), "bob@example.com"
    )
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_the_owner_is_told_at_most_once_a_day(app):
    gen_user("ada@example.com", "Ada")
    for _ in range(3):
        sign_up(app.test_client(), "ada@example.com")
    assert kinds() == {"sign_up_attempt": 1}


def test_following_the_link_verifies_and_logs_in_once(app, client):
    assert sign_up(client, "new@example.com").status_code == 302
    assert not logged_in(client)
    assert user("new@example.com").email_verified_at is None
    link = mailed_link("new@example.com", "verify_email", "/verify/")
    page = client.get(link).get_data(as_text=True)
    assert "Confirm that new@example.com is your address" in page
    assert user("new@example.com").email_verified_at is None  # opening it changes nothing
    response = Browser(client).submit(link, {})
    assert response.status_code == 302
    assert user("new@example.com").email_verified_at is not None
    assert logged_in(client)
    # Used: it no longer works, for anyone.
    other = app.test_client()
    again = other.get(link)
    assert again.status_code == 400
    assert "This link does not work" in again.get_data(as_text=True)
    assert other.post(link, data={}).status_code == 400
    assert not logged_in(other)


def test_an_expired_link_is_refused(app, client, clock):
    sign_up(client, "new@example.com")
    link = mailed_link("new@example.com", "verify_email", "/verify/")
    clock.advance(days=7, minutes=1)
    assert client.get(link).status_code == 400
    assert user("new@example.com").email_verified_at is None


def test_a_link_still_works_just_before_it_expires(app, client, clock):
    sign_up(client, "new@example.com")
    link = mailed_link("new@example.com", "verify_email", "/verify/")
    clock.advance(days=6, hours=23)
    assert Browser(client).submit(link, {}).status_code == 302
    assert user("new@example.com").email_verified_at is not None


def test_a_tampered_link_or_another_kinds_link_is_refused(app, client):
    sign_up(client, "new@example.com")
    link = mailed_link("new@example.com", "verify_email", "/verify/")
    token = link.removeprefix("/verify/")
    flipped = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (flipped, token[:-1], "not-a-token", token.upper()):
        response = client.get(f"/verify/{bad}")
        assert response.status_code == 400, bad
        assert "Traceback" not in response.get_data(as_text=True)
    # A reset link for the same account is not a verify link.
    Browser(client).submit("/password/forgot", {"email": "new@example.com"})
    reset = mailed_link("new@example.com", "password_reset", "/password/reset/")
    assert client.get("/verify/" + reset.removeprefix("/password/reset/")).status_code == 400
    assert user("new@example.com").email_verified_at is None


def test_an_unverified_account_logs_in_with_its_password_and_may_back_but_not_create(
    app, client, project
):
    sign_up(client, "new@example.com")
    browser = Browser(client)
    assert browser.login("new@example.com").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Please confirm your e-mail address" in home
    assert 'action="/verify-again"' in home
    assert client.get(f"/projects/{project.id}/back").status_code == 200  # backing is open
    for url in ("/projects/new", "/payouts/account"):
        refused = client.get(url)
        assert refused.status_code == 403, url
        page = refused.get_data(as_text=True)
        assert "once your e-mail address is confirmed" in page
        assert "Send the link again" in page
    before = db.session.scalar(select(func.count()).select_from(User))
    assert client.post("/payouts/account/connect", data={"country": "US"}).status_code in (
        400,
        403,
    )
    page = client.get("/settings/email").get_data(as_text=True)
    assert "once the current one is confirmed" in page and "Send the link again" in page
    assert 'name="password"' not in page
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_after_verifying_the_gates_open(app, client):
    sign_up(client, "new@example.com")
    Browser(client).submit(mailed_link("new@example.com", "verify_email", "/verify/"), {})
    assert client.get("/projects/new").status_code == 200
    assert "Please confirm your e-mail address" not in client.get("/").get_data(as_text=True)


def test_send_the_link_again_mails_a_new_one_up_to_the_limit(app, client):
    gen_user("new@example.com", "Newcomer", verified=False)
    browser = Browser(client)
    browser.login("new@example.com")
    for _ in range(3):  # VERIFY_RESEND_LIMIT, "3 per hour"
        response = browser.submit("/", action="/verify-again")
        assert response.status_code == 302
    assert len(outbox("verify_email")) == 3
    page = client.get("/").get_data(as_text=True)
    assert "We sent a new link to new@example.com" in page
    refused = browser.submit("/", action="/verify-again")
    assert refused.status_code == 429
    assert "You asked for the link several times already" in refused.get_data(as_text=True)
    assert len(outbox("verify_email")) == 3
    # Each link works (the newest is followed).
    assert Browser(client).submit(mailed_link("new@example.com", "verify_email", "/verify/"), {})
    assert user("new@example.com").email_verified_at is not None


def test_the_mail_is_in_the_language_the_person_signed_up_in(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    sign_up(client, "xin@example.com")
    message = mailed_message("xin@example.com", "verify_email")
    assert message["Subject"] == "请确认你的电子邮件地址"
    assert "/verify/" in words_of(message)
