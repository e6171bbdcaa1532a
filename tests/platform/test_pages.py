"""Error pages leak nothing; every page carries the security headers."""

import pytest
from flask import abort

from tests.helpers import gen_user


@pytest.fixture
def app(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/_boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @app.route("/_forbidden")
    def forbidden():
        abort(403)

    return app


def test_server_error_page_shows_no_traceback(client):
    response = client.get("/_boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    for leak in ("Traceback", "RuntimeError", "hunter2", "secret internals"):
        assert leak not in page


def test_server_error_answers_json_when_asked(client):
    response = client.get("/_boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json == {
        "error": "Something went wrong",
        "message": "We could not finish that. Try again in a moment.",
    }


@pytest.mark.parametrize(
    ("url", "code", "text"),
    [("/no/such/page", 404, "Not found"), ("/_forbidden", 403, "Forbidden")],
)
def test_error_pages(client, url, code, text):
    response = client.get(url)
    assert response.status_code == code
    assert text in response.get_data(as_text=True)
    assert "Go to the home page" in response.get_data(as_text=True)


def test_csrf_failure_is_a_400_page(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)


def test_security_headers_on_every_page(client, fakestripe_url):
    for url in ("/", "/login", "/register", "/no/such/page"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert f"script-src 'self' {fakestripe_url}" in csp
        assert f"connect-src 'self' {fakestripe_url}" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_assets_are_served_by_the_site(client):
    page = client.get("/").get_data(as_text=True)
    assert "cdn.jsdelivr.net" not in page
    assert "/bootstrap/static/css/bootstrap.min.css" in page
    for asset in ("/bootstrap/static/css/bootstrap.min.css", "/static/css/site.css"):
        with client.get(asset) as response:
            assert response.status_code == 200
            assert response.mimetype == "text/css"


def test_navigation_shows_role_for_admins(browser, client):
    from app.accounts.models import Role

    gen_user("root@example.com", "Root", role=Role.ADMIN)
    browser.login("root@example.com")
    page = client.get("/").get_data(as_text=True)
    assert "Root" in page and ">admin<" in page.replace(" ", "").replace("\n", "")
