"""Password reset (issue 13.2) and the change of password and e-mail (13.3), through the real
forms: a reset link works once, for an hour, and only the newest; a new password is checked
like at sign-up; a change of password asks the current one and ends every other session; a
change of e-mail mails the new address a link and tells the old one, with a week to undo."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.accounts.models import User
from app.extensions import db
from tests.helpers import PASSWORD, Browser, csrf_token, gen_user
from tests.helpers.notifications import kinds, mailed_link, mailed_message, outbox, words_of

NEW = "plum kettle orbit"
RESET = "/password/reset/"


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def logged_in(client) -> bool:
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


def ask_reset(client, email: str = "ada@example.com"):
    return Browser(client).submit("/password/forgot", {"email": email})


def reset_link(email: str = "ada@example.com") -> str:
    return mailed_link(email, "password_reset", RESET)


def choose(client, link: str, password: str = NEW):
    return Browser(client).submit(link, {"password": password, "confirm": password})


def refused(client, link: str, password: str = NEW) -> bool:
    """The link's page says it does not work, and a POST to it (with a CSRF token from
    another form: the refused page has none) changes nothing."""
    page = client.get(link)
    token = csrf_token(Browser(client), "/password/forgot")
    fields = {"password": password, "confirm": password, "csrf_token": token}
    posted = client.post(link, data=fields)
    return (
        page.status_code == posted.status_code == 400
        and "This link does not work" in page.get_data(as_text=True)
    )


def password_is(email: str, password: str) -> bool:
    return check_password_hash(user(email).password_hash, password)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


# ---- forgot password: the same answer whatever the address -------------------------------


def test_forgot_password_answers_the_same_for_an_account_and_an_unknown_address(app):
    gen_user("ada@example.com")
    answers = []
    for email in ("ada@example.com", "nobody@example.com"):
        client = app.test_client()
        response = ask_reset(client, email)
        page = client.get(response.headers["Location"])
        answers.append(
            (
                response.status_code,
                response.headers["Location"],
                page.status_code,
                without_csrf(page.get_data(as_text=True)),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 302 and answers[0][2] == 200
    assert "If an account has that address" in answers[0][3]
    assert kinds() == {"password_reset": 1}  # only the account's address gets mail


def test_a_reset_link_sets_a_new_password_ends_every_session_and_logs_in(app):
    gen_user("ada@example.com")
    elsewhere = app.test_client()
    Browser(elsewhere).login()
    assert logged_in(elsewhere)
    client = app.test_client()
    ask_reset(client)
    assert "for 60 minutes" in words_of(mailed_message("ada@example.com", "password_reset"))
    response = choose(client, reset_link())
    assert response.status_code == 302
    assert password_is("ada@example.com", NEW)
    assert logged_in(client)
    assert not logged_in(elsewhere)  # the other browser's session ended
    told = words_of(mailed_message("ada@example.com", "password_changed"))
    assert "was reset with a link" in told


def test_a_reset_link_works_for_an_hour_only(app, clock):
    gen_user("ada@example.com")
    client = app.test_client()
    ask_reset(client)
    link = reset_link()
    clock.advance(minutes=61)
    assert refused(client, link)
    assert password_is("ada@example.com", PASSWORD)


def test_a_reset_link_still_works_just_before_the_hour(app, clock):
    gen_user("ada@example.com")
    client = app.test_client()
    ask_reset(client)
    clock.advance(minutes=59)
    assert choose(client, reset_link()).status_code == 302
    assert password_is("ada@example.com", NEW)


def test_a_used_reset_link_does_not_work_again(app):
    gen_user("ada@example.com")
    client = app.test_client()
    ask_reset(client)
    link = reset_link()
    assert choose(client, link).status_code == 302
    other = app.test_client()
    assert refused(other, link, "violet anchor meadow")
    assert password_is("ada@example.com", NEW)
    assert not logged_in(other)


def test_a_tampered_reset_link_does_not_work(app):
    gen_user("ada@example.com")
    client = app.test_client()
    ask_reset(client)
    token = reset_link().removeprefix(RESET)
    flipped = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (flipped, token[:-1], token[1:], "x" + token, "not-a-token"):
        response = client.get(RESET + bad)
        assert response.status_code == 400, bad
        assert "Traceback" not in response.get_data(as_text=True)
    assert password_is("ada@example.com", PASSWORD)


def test_a_newer_reset_link_voids_the_older_one(app):
    gen_user("ada@example.com")
    client = app.test_client()
    ask_reset(client)
    older = reset_link()
    ask_reset(client)
    newer = reset_link()
    assert older != newer
    assert refused(client, older)
    assert password_is("ada@example.com", PASSWORD)
    assert choose(client, newer).status_code == 302
    assert password_is("ada@example.com", NEW)


def test_a_change_of_password_voids_a_reset_link(app):
    gen_user("ada@example.com")
    client = app.test_client()
    ask_reset(client)
    link = reset_link()
    browser = Browser(client)
    browser.login()
    fields = {"current_password": PASSWORD, "password": NEW, "confirm": NEW}
    assert browser.submit("/settings/password", fields).status_code == 302
    assert refused(app.test_client(), link, "violet anchor meadow")
    assert password_is("ada@example.com", NEW)


def test_a_common_or_weak_new_password_is_refused(app):
    gen_user("ada@example.com", "Ada Lovelace")
    client = app.test_client()
    ask_reset(client)
    link = reset_link()
    for weak in ("password1234", "qwertyuiopasdf", "lovelace1234", "aaaaaaaaaaaa", "short"):
        response = choose(client, link, weak)
        assert response.status_code == 400, weak
        page = response.get_data(as_text=True)
        assert "too common or too easy to guess" in page or "Use at least" in page, weak
    assert password_is("ada@example.com", PASSWORD)
    assert choose(client, link).status_code == 302  # the link still works for a good one


# ---- change of password from the settings ------------------------------------------------


def test_a_change_of_password_asks_the_current_one(app, client):
    gen_user("ada@example.com")
    browser = Browser(client)
    browser.login()
    fields = {"current_password": "not my password", "password": NEW, "confirm": NEW}
    response = browser.submit("/settings/password", fields)
    assert response.status_code == 400
    assert "That is not your password." in response.get_data(as_text=True)
    assert password_is("ada@example.com", PASSWORD)


def test_a_change_of_password_refuses_a_weak_one(app, client):
    gen_user("ada@example.com")
    browser = Browser(client)
    browser.login()
    fields = {"current_password": PASSWORD, "password": "password1234", "confirm": "password1234"}
    response = browser.submit("/settings/password", fields)
    assert response.status_code == 400
    assert "too common or too easy to guess" in response.get_data(as_text=True)
    assert password_is("ada@example.com", PASSWORD)


def test_a_change_of_password_ends_every_other_session_and_keeps_this_one(app):
    gen_user("ada@example.com")
    here, there = app.test_client(), app.test_client()
    Browser(there).login()
    browser = Browser(here)
    browser.login()
    fields = {"current_password": PASSWORD, "password": NEW, "confirm": NEW}
    response = browser.submit("/settings/password", fields)
    assert response.status_code == 302
    page = here.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your password is changed." in page and "1 other device is logged out." in page
    assert logged_in(here)
    assert not logged_in(there)
    assert there.get("/settings/password").status_code == 302  # to log in
    assert password_is("ada@example.com", NEW)
    assert "changed from its settings" in words_of(
        mailed_message("ada@example.com", "password_changed")
    )


# ---- change of e-mail --------------------------------------------------------------------


def ask_email_change(client, email: str = "ada.new@example.com", password: str = PASSWORD):
    return Browser(client).submit("/settings/email", {"email": email, "password": password})


def test_a_change_of_e_mail_mails_the_new_address_and_changes_only_when_followed(app, client):
    gen_user("ada@example.com")
    Browser(client).login()
    response = ask_email_change(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We sent a link to ada.new@example.com" in page
    assert user("ada@example.com") is not None  # nothing changed yet
    link = mailed_link("ada.new@example.com", "email_change_confirm", "/settings/email/confirm/")
    assert "Confirm" in client.get(link).get_data(as_text=True)
    assert Browser(client).submit(link, {}).status_code == 302
    moved = user("ada.new@example.com")
    assert moved is not None and moved.email_verified_at is not None
    assert user("ada@example.com") is None
    # The old address is told, with an undo link; the confirm link is spent.
    notice = words_of(mailed_message("ada@example.com", "email_changed"))
    assert "is now ada.new@example.com" in notice
    assert "/settings/email/undo/" in notice
    assert app.test_client().get(link).status_code == 400


def test_a_change_of_e_mail_asks_the_password(app, client):
    gen_user("ada@example.com")
    Browser(client).login()
    response = ask_email_change(client, password="not my password")
    assert response.status_code == 400
    assert "That is not your password." in response.get_data(as_text=True)
    assert outbox("email_change_confirm") == []


def test_the_undo_link_puts_the_old_address_back_for_a_week(app, clock):
    gen_user("ada@example.com")
    client = app.test_client()
    Browser(client).login()
    ask_email_change(client)
    link = mailed_link("ada.new@example.com", "email_change_confirm", "/settings/email/confirm/")
    Browser(client).submit(link, {})
    undo = mailed_link("ada@example.com", "email_changed", "/settings/email/undo/")
    clock.advance(days=6, hours=23)
    assert Browser(app.test_client()).submit(undo, {}).status_code == 302
    assert user("ada@example.com") is not None and user("ada.new@example.com") is None
    assert not logged_in(client)  # every session ended
    assert mailed_link("ada@example.com", "password_reset", RESET)  # and a reset link sent
    assert app.test_client().get(undo).status_code == 400  # used


def test_the_undo_link_expires_after_a_week(app, clock):
    gen_user("ada@example.com")
    client = app.test_client()
    Browser(client).login()
    ask_email_change(client)
    link = mailed_link("ada.new@example.com", "email_change_confirm", "/settings/email/confirm/")
    Browser(client).submit(link, {})
    undo = mailed_link("ada@example.com", "email_changed", "/settings/email/undo/")
    clock.advance(days=7, minutes=1)
    assert refused(app.test_client(), undo)
    assert user("ada.new@example.com") is not None


def test_an_unverified_account_must_confirm_before_changing_its_e_mail(app, client):
    gen_user("ada@example.com", verified=False)
    Browser(client).login()
    page = client.get("/settings/email").get_data(as_text=True)
    assert "once the current one is confirmed" in page and "Send the link again" in page
    token = csrf_token(Browser(client), "/settings/email")  # the resend form's
    fields = {"email": "ada.new@example.com", "password": PASSWORD, "csrf_token": token}
    assert client.post("/settings/email", data=fields).status_code == 403
    assert outbox("email_change_confirm") == []
    assert user("ada@example.com") is not None
