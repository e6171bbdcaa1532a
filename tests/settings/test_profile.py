"""Editing one's profile at /settings/profile (issue 13.3): what is saved, what is refused and
why, the picture checked and re-encoded like a cover, the language and time zone used."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from app.accounts.models import User
from app.extensions import db
from app.projects import uploads
from tests.helpers import Browser, gen_user
from tests.helpers.forms import field_errors
from tests.helpers.images import png_bytes

PROFILE = {
    "display_name": "Ada Lovelace",
    "bio": "I build lamps.\nAnd engines.",
    "location": "London",
    "website": "https://ada.example.org/lamps",
    "locale": "en",
    "timezone": "Europe/London",
}


def signed_in(app):
    gen_user()
    client = app.test_client()
    assert Browser(client).login().status_code == 302
    return client


def save(client, **changes):
    return Browser(client).submit("/settings/profile", {**PROFILE, **changes})


def ada() -> User:
    db.session.expire_all()
    return db.session.query(User).filter_by(email="ada@example.com").one()


def test_settings_opens_on_the_profile_page(app):
    client = signed_in(app)
    response = client.get("/settings/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings/profile")
    page = client.get("/settings/profile").get_data(as_text=True)
    assert 'value="Ada"' in page
    assert "ada@example.com" not in page.split("<main")[1]


def test_a_saved_profile_shows_on_the_form_and_in_the_row(app):
    client = signed_in(app)
    response = save(client)
    assert response.status_code == 302
    page = client.get("/settings/profile").get_data(as_text=True)
    assert "Your profile is saved." in page
    assert 'value="Ada Lovelace"' in page
    assert 'value="https://ada.example.org/lamps"' in page
    user = ada()
    assert (user.display_name, user.location, user.timezone) == (
        "Ada Lovelace",
        "London",
        "Europe/London",
    )
    assert user.bio == "I build lamps.\nAnd engines."


def test_bad_input_gets_a_reason_under_its_field_and_nothing_is_saved(app):
    client = signed_in(app)
    cases = [
        ("display_name", "", "This field is required."),
        ("display_name", "A", "Field must be between 2 and 80 characters long."),
        ("bio", "x" * 501, "Field cannot be longer than 500 characters."),
        ("location", "y" * 81, "Field cannot be longer than 80 characters."),
        ("website", "javascript:alert(1)", "Give a web address that starts with"),
        ("website", "JavaScript://example.com/%0Aalert(1)", "Give a web address"),
        ("website", "data:text/html,<script>alert(1)</script>", "Give a web address"),
        ("website", "ftp://example.com/", "Give a web address"),
        ("website", "https://", "Give a web address"),
        ("website", "example.com", "Give a web address"),
        ("timezone", "Mars/Olympus", "Not a valid choice."),
        ("locale", "fr", "Not a valid choice."),
    ]
    for name, value, message in cases:
        response = save(client, **{name: value})
        assert response.status_code == 200, (name, value)
        page = response.get_data(as_text=True)
        assert any(message in error for error in field_errors(page, name)), (name, value)
        assert "Nothing was saved" in page
    user = ada()
    assert (user.display_name, user.website, user.timezone) == ("Ada", "", None)


def test_a_picture_is_checked_re_encoded_and_replaces_the_old_one(app):
    client = signed_in(app)
    big = io.BytesIO()
    Image.new("RGB", (1200, 900), (200, 30, 30)).save(big, "JPEG", comment=b"secret")
    response = save(client, avatar=(io.BytesIO(big.getvalue()), "me.jpg"))
    assert response.status_code == 302
    first = ada().avatar_image
    assert uploads.STORED_NAME.match(first)
    stored = (uploads.upload_dir() / first).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert max(image.size) == app.config["AVATAR_MAX_SIDE"]
        assert "comment" not in image.info
    picture = client.get(f"/people/{ada().id}/picture")
    assert picture.status_code == 200
    assert picture.mimetype == "image/jpeg"
    picture.close()

    save(client, avatar=(io.BytesIO(png_bytes()), "again.png"))
    second = ada().avatar_image
    assert second != first
    assert not (uploads.upload_dir() / first).exists()  # the old file is gone

    save(client, remove_avatar="y")
    assert ada().avatar_image is None
    assert not (uploads.upload_dir() / second).exists()
    assert client.get(f"/people/{ada().id}/picture").status_code == 404


def stored_files() -> set[str]:
    return {p.name for p in uploads.upload_dir().iterdir()}


def test_a_file_that_is_not_an_image_is_refused_with_the_reason(app):
    client = signed_in(app)
    before = stored_files()  # other tests in this worker share the instance folder
    fake = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    for data, name in [(fake, "me.png"), (b"GIF89a" + b"\0" * 50, "me.gif"), (b"", "x.jpg")]:
        response = save(client, avatar=(io.BytesIO(data), name), display_name="Changed")
        page = response.get_data(as_text=True)
        if data:
            assert response.status_code == 200
            assert field_errors(page, "avatar") == ["The file is not a PNG, JPEG or WebP image."]
    user = ada()
    assert user.avatar_image is None
    assert stored_files() == before  # nothing written for a refused file


def test_the_chosen_time_zone_is_used_for_times_on_pages(app):
    client = signed_in(app)
    save(client, timezone="Asia/Shanghai")
    page = client.get("/settings/sessions").get_data(as_text=True)
    assert "CST" in page
    save(client, timezone="America/New_York")
    page = client.get("/settings/sessions").get_data(as_text=True)
    assert " EST" in page or " EDT" in page


def test_the_chosen_language_is_used_at_once(app):
    client = signed_in(app)
    response = save(client, locale="zh_Hans_CN")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ada().locale == "zh_Hans_CN"
    assert 'lang="zh-Hans"' in page or 'lang="zh' in page


def test_a_moment_in_a_mail_is_in_the_recipients_time_zone(app):
    from app import templating

    gen_user()
    moment = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        with templating.for_reader("Asia/Shanghai"):
            assert "20:00" in templating.in_zone(moment)
        assert "20:00" not in templating.in_zone(moment)


def test_pictures_count_in_the_upload_quota(app):
    app.config["COVER_UPLOADS_PER_HOUR"] = 1
    client = signed_in(app)
    before = stored_files()
    assert save(client, avatar=(io.BytesIO(png_bytes()), "a.png")).status_code == 302
    first = ada().avatar_image
    response = save(client, avatar=(io.BytesIO(png_bytes((1, 2, 3))), "b.png"))
    assert response.status_code == 200
    (error,) = field_errors(response.get_data(as_text=True), "avatar")
    assert "You have uploaded 1 cover in the last hour" in error or "last hour" in error
    assert ada().avatar_image == first
    assert stored_files() - before == {first}  # the refused picture left no file
