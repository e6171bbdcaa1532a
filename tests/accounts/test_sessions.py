"""Sessions are kept on the server, so each one can be ended: log out, ending a session from
the settings page, log out of all other devices, a password reset and disabling the account
end every copy of its cookies, remember-me included (issue 13.5)."""

from __future__ import annotations

from flask_login.utils import encode_cookie

from app.accounts import sessions
from app.accounts.models import User
from app.accounts.services import find_by_email
from app.extensions import db
from tests.helpers import PASSWORD, Browser, gen_user, parse_forms

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def signed_in(client) -> bool:
    """Whether the client's cookies still open a page only a signed-in user sees."""
    return client.get("/my/pledges").status_code == 200


def device(app, user_agent: str = FIREFOX, ip: str = "198.51.100.7"):
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    return client


def log_in(client, **fields) -> None:
    assert Browser(client).login(**fields).status_code == 302


def copy_of(app, client, *names: str):
    """A second browser holding a copy of the first one's cookies (as a thief would)."""
    thief = app.test_client()
    thief.environ_base.update(client.environ_base)
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie"
        thief.set_cookie(name, cookie.value)
    return thief


def test_a_session_cookie_copied_before_log_out_stops_working_at_log_out(app):
    gen_user()
    mine = device(app)
    log_in(mine)
    thief = copy_of(app, mine, "session")
    assert signed_in(thief)
    Browser(mine).logout()
    assert not signed_in(mine)
    assert not signed_in(thief)


def test_a_remember_me_cookie_stops_working_at_log_out(app):
    gen_user()
    mine = device(app)
    log_in(mine, remember="y")
    thief = copy_of(app, mine, "remember_token")  # the remember-me cookie alone
    assert signed_in(thief)
    Browser(mine).logout()
    again = copy_of(app, mine, "remember_token") if mine.get_cookie("remember_token") else None
    assert not signed_in(thief)
    assert again is None or not signed_in(again)


def test_a_remember_me_cookie_keyed_on_the_user_id_from_before_no_longer_logs_in(app):
    user = gen_user()
    old = device(app)
    old.set_cookie("remember_token", encode_cookie(str(user.id)))
    assert not signed_in(old)


def test_the_sessions_page_lists_each_device_and_ends_the_one_chosen(app):
    gen_user()
    laptop, phone = device(app, FIREFOX, "198.51.100.7"), device(app, IPHONE, "203.0.113.40")
    log_in(laptop)
    log_in(phone, remember="y")
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    assert "Firefox on Ubuntu" in page
    assert "Mobile Safari on iOS (iPhone)" in page
    assert "203.0.113.40" in page and "198.51.100.7" in page
    assert page.count('data-testid="this-device"') == 1
    assert "Remembered" in page

    forms = [f for f in parse_forms(page) if f["action"].endswith("/end")]
    assert len(forms) == 2
    phone_row = sessions.active_sessions(find_by_email("ada@example.com"))[0]
    assert phone_row.device == "Mobile Safari on iOS (iPhone)"
    response = Browser(laptop).submit(
        "/settings/sessions", action=f"/settings/sessions/{phone_row.id}/end"
    )
    assert response.status_code == 302
    assert not signed_in(phone)
    assert signed_in(laptop)
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    assert "Mobile Safari" not in page
    assert "You are logged in on this device only." in page


def test_log_out_of_all_other_devices_keeps_only_this_one(app):
    gen_user()
    here, second, third = device(app), device(app, IPHONE), device(app, ip="192.0.2.3")
    for client in (here, second, third):
        log_in(client, remember="y")
    thief = copy_of(app, second, "remember_token")
    response = Browser(here).submit("/settings/sessions", action="/settings/sessions/end-others")
    assert response.status_code == 302
    assert "2 other devices are logged out." in here.get("/settings/sessions").get_data(
        as_text=True
    )
    assert signed_in(here)
    assert not signed_in(second) and not signed_in(third) and not signed_in(thief)


def test_ending_the_session_you_are_using_logs_you_out(app):
    gen_user()
    mine = device(app)
    log_in(mine)
    (row,) = sessions.active_sessions(find_by_email("ada@example.com"))
    Browser(mine).submit("/settings/sessions", action=f"/settings/sessions/{row.id}/end")
    assert not signed_in(mine)


def test_nobody_can_end_someone_elses_session(app):
    gen_user()
    gen_user("bob@example.com", "Bob")
    ada, bob = device(app), device(app)
    log_in(ada)
    log_in(bob, email="bob@example.com")
    (adas,) = sessions.active_sessions(find_by_email("ada@example.com"))
    page = bob.get("/settings/sessions").get_data(as_text=True)
    token = parse_forms(page)[-1]["fields"]["csrf_token"]
    response = bob.post(f"/settings/sessions/{adas.id}/end", data={"csrf_token": token})
    assert response.status_code == 404
    assert signed_in(ada)


def test_ending_all_sessions_as_a_password_change_does_ends_remember_me_too(app):
    user = gen_user()
    laptop, phone = device(app), device(app, IPHONE)
    log_in(laptop)
    log_in(phone, remember="y")
    thief = copy_of(app, phone, "remember_token")
    current = sessions.active_sessions(db.session.get(User, user.id))[-1]  # the laptop's
    assert sessions.end_all_sessions(db.session.get(User, user.id), except_current=current) == 1
    db.session.commit()
    assert signed_in(laptop)
    assert not signed_in(phone) and not signed_in(thief)
    sessions.end_all_sessions(db.session.get(User, user.id))
    db.session.commit()
    assert not signed_in(laptop)


def test_an_admin_disabling_the_account_ends_its_sessions_and_its_log_in(app, runner):
    gen_user()
    mine = device(app)
    log_in(mine, remember="y")
    thief = copy_of(app, mine, "remember_token")
    result = runner.invoke(args=["users", "disable", "ada@example.com"])
    assert result.exit_code == 0, result.output
    assert "ada@example.com is disabled; 1 session(s) ended." in result.output
    assert not signed_in(mine) and not signed_in(thief)
    response = Browser(device(app)).login(password=PASSWORD)
    assert response.status_code == 200
    assert "This account is disabled." in response.get_data(as_text=True)

    assert runner.invoke(args=["users", "enable", "ada@example.com"]).exit_code == 0
    log_in(device(app))
    assert runner.invoke(args=["users", "disable", "nobody@example.com"]).exit_code == 1


def test_a_session_not_remembered_ends_after_it_goes_unused(app, clock):
    gen_user()
    mine = device(app)
    log_in(mine)
    clock.advance(days=app.config["SESSION_IDLE_DAYS"] + 1)
    assert not signed_in(mine)
