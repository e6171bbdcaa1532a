"""Logging in starts a fresh session: a CSRF token from before it is worthless afterwards."""

from __future__ import annotations

from tests.helpers import PASSWORD, Browser, gen_user, parse_forms
from tests.helpers.notifications import mailed_link


def token_on(client, url: str) -> str:
    forms = [
        f for f in parse_forms(client.get(url).get_data(as_text=True)) if f["method"] == "post"
    ]
    return forms[0]["fields"]["csrf_token"]


def logged_in(client) -> bool:
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


def test_a_token_from_before_log_in_is_refused_after_it(app, client):
    gen_user("ada@example.com", "Ada")
    planted = token_on(client, "/login")  # what an attacker who fixed the session would know
    Browser(client).login("ada@example.com")
    assert logged_in(client)

    refused = client.post("/logout", data={"csrf_token": planted})
    assert refused.status_code == 400
    assert logged_in(client)

    fresh = token_on(client, "/")  # the page's own log out form
    assert fresh != planted
    client.post("/logout", data={"csrf_token": fresh})
    assert not logged_in(client)


def test_following_the_sign_up_link_also_starts_a_fresh_session(app, client):
    planted = token_on(client, "/register")
    fields = {"email": "new@example.com", "display_name": "New", "password": PASSWORD}
    fields["confirm"] = PASSWORD
    response = Browser(client).submit("/register", fields)
    assert response.status_code == 302
    assert not logged_in(client)  # signing up logs no one in
    link = mailed_link("new@example.com", "verify_email", "/verify/")
    assert Browser(client).submit(link, {}).status_code == 302
    assert logged_in(client)
    assert client.post("/logout", data={"csrf_token": planted}).status_code == 400
    assert logged_in(client)


def test_what_the_session_held_before_log_in_is_gone(app, client):
    gen_user("ada@example.com", "Ada")
    with client.session_transaction() as before:
        before["left_over"] = "from before"
    Browser(client).login("ada@example.com")
    with client.session_transaction() as after:
        assert "left_over" not in after
        assert after["_user_id"]
