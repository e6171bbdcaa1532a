"""A visitor registers, logs in and out, through the real forms with CSRF on."""

from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.extensions import db
from tests.helpers import PASSWORD, Browser, gen_user


def register(browser, email="ada@example.com", name="Ada", password=PASSWORD, confirm=None):
    return browser.submit(
        "/register",
        {
            "email": email,
            "display_name": name,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_register_creates_an_unverified_account_and_logs_no_one_in(browser, client):
    response = register(browser, email="  Ada@Example.COM ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/check-inbox/sign-up"
    user = db.session.scalar(select(User))
    assert user.email == "ada@example.com"
    assert user.role is Role.USER
    assert user.email_verified_at is None
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert PASSWORD not in user.password_hash
    page = client.get("/").get_data(as_text=True)
    assert "Log out" not in page
    # Logging in with the password works while unverified; the banner asks for the link.
    browser.login("ada@example.com")
    page = client.get("/").get_data(as_text=True)
    assert "Ada" in page and "Log out" in page
    assert "Please confirm your e-mail address" in page


def test_signing_up_with_a_taken_address_in_any_case_changes_nothing(browser, client):
    gen_user("ada@example.com", "Ada")
    before = db.session.scalar(select(User)).password_hash
    response = register(
        browser, email="ADA@example.com", name="Mallory", password="plum kettle orbit"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/check-inbox/sign-up"
    assert "An account with this email already exists" not in response.get_data(as_text=True)
    assert user_count() == 1
    db.session.expire_all()
    user = db.session.scalar(select(User))
    assert (user.display_name, user.password_hash) == ("Ada", before)
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_bad_email_is_refused(browser):
    response = register(browser, email="not-an-email")
    assert response.status_code == 200
    assert "Invalid email address." in response.get_data(as_text=True)
    assert user_count() == 0


def test_short_password_is_refused(browser):
    response = register(browser, password="short")
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert user_count() == 0


def test_mismatched_confirmation_is_refused(browser):
    response = register(browser, confirm="something else entirely")
    assert "The passwords do not match." in response.get_data(as_text=True)
    assert user_count() == 0


def test_register_without_csrf_token_changes_nothing(client):
    response = client.post(
        "/register",
        data={
            "email": "ada@example.com",
            "display_name": "Ada",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert user_count() == 0


def test_login_shows_name_and_role(browser, client):
    gen_user("mod@example.com", "Moira", role=Role.MODERATOR)
    response = browser.login("MOD@example.com")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Moira" in page and "moderator" in page


def test_wrong_password_is_refused(browser, client):
    gen_user()
    response = browser.login(password="wrong password!")
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_unknown_email_gets_the_same_message(browser):
    response = browser.login("nobody@example.com")
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_logout_needs_a_post_with_csrf(browser, client):
    gen_user()
    browser.login()
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert "Log out" in client.get("/").get_data(as_text=True)
    browser.logout()
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_remember_me_sets_a_lasting_cookie(browser, client):
    gen_user()
    response = browser.login(remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "SameSite=Lax" in remember[0]
    assert "Max-Age=0" not in remember[0]
    other = Browser(browser.client.application.test_client())
    cookies = other.login().headers.getlist("Set-Cookie")
    assert not [c for c in cookies if c.startswith("remember_token=") and "Max-Age=0" not in c]


def test_login_redirects_only_to_local_next(browser):
    gen_user()
    response = browser.submit(
        "/login?next=https://evil.example/", {"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_session_cookie_is_httponly_and_lax(browser):
    gen_user()
    response = browser.login()
    session = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert session and "HttpOnly" in session[0] and "SameSite=Lax" in session[0]
    assert "Secure" not in session[0]
