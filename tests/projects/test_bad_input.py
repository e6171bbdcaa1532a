"""Every field of the project and tier forms, at and beyond its limits.

A value past a limit re-renders the form (200) with a message next to the field, and
saves nothing: no new row, no changed row, no stored file. A value exactly at the limit
is accepted. Bodies over MAX_CONTENT_LENGTH are the one case answered with an error
status by design (413).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.projects import uploads
from app.projects.models import Project, ProjectEvent
from app.rewards.models import RewardTier, TierShippingRule
from tests.helpers import (
    SharedTemplateCache,
    fast_password_hashing,
    gen_project,
    gen_tier,
    gen_user,
)
from tests.helpers.forms import PROJECT, field_errors

REQUIRED = "This field is required."
NOT_A_NUMBER = "Enter the amount as a number, like 25 or 25.50."
MORE_THAN_ZERO = "The amount must be more than zero."
BELOW_FLOOR = (
    "A reward's minimum pledge is at least $6.00: below that, the card network's fixed fee on "
    "the payment would be more than the platform's fee."
)
NOT_AN_IMAGE = "The file is not a PNG, JPEG or WebP image."
PAST = "The delivery month cannot be in the past."
NO_MONTH = "Enter the month you expect to deliver, like 2027-03."
USD_DECIMALS = "USD amounts have at most 2 decimals."
JPY_DECIMALS = "JPY amounts have no decimals."
AT_MOST_USD = "The amount can be at most $100,000,000.00."
AT_MOST_JPY = "The amount can be at most ¥100,000,000."
DURATION = "The duration must be 1 to 60 days."
QUANTITY = "Between 1 and 1,000,000."
NOT_AN_INTEGER = "Not a valid integer value."
NOT_A_DATE = "Not a valid date value."
NOT_A_CHOICE = "Not a valid choice."
NO_DAYS = "Enter a whole number of days."
NEGATIVE = "The amount cannot be negative."
TWICE = "Each destination can be listed once."
NOT_LISTED = "Choose a destination from the list."
NO_HOME = "Set the project's country first: domestic shipping goes there."
NO_PLACE = "Choose where this fee ships to."


def longer_than(limit: int) -> str:
    return f"Field cannot be longer than {limit} characters."


_today = datetime.now(UTC).date()
THIS_MONTH = _today.strftime("%Y-%m")
LAST_MONTH = (_today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

# ---- the project form ---------------------------------------------------------------------

# fmt: off
PROJECT_REFUSED = [
    # what is sent                              field with the error  message shown
    ({"title": ""},                             "title",              REQUIRED),
    ({"title": "   "},                          "title",              REQUIRED),
    ({"title": "x" * 81},                       "title",              longer_than(80)),
    ({"blurb": "x" * 161},                      "blurb",              longer_than(160)),
    ({"story": "x" * 50_001},                   "story",              longer_than(50000)),
    ({"goal": ""},                              "goal",               REQUIRED),
    ({"goal": "0"},                             "goal",               MORE_THAN_ZERO),
    ({"goal": "-5"},                            "goal",               MORE_THAN_ZERO),
    ({"goal": "abc"},                           "goal",               NOT_A_NUMBER),
    ({"goal": "1e5"},                           "goal",               NOT_A_NUMBER),
    ({"goal": "NaN"},                           "goal",               NOT_A_NUMBER),
    ({"goal": "Infinity"},                      "goal",               NOT_A_NUMBER),
    ({"goal": "10.001"},                        "goal",               USD_DECIMALS),
    ({"goal": "10.5", "currency": "JPY"},       "goal",               JPY_DECIMALS),
    ({"goal": "100000000.01"},                  "goal",               AT_MOST_USD),
    ({"goal": "9" * 400},                       "goal",               AT_MOST_USD),
    ({"goal": "100000001", "currency": "JPY"},  "goal",               AT_MOST_JPY),
    ({"duration_days": "0"},                    "duration_days",      DURATION),
    ({"duration_days": "61"},                   "duration_days",      DURATION),
    ({"duration_days": "-1"},                   "duration_days",      DURATION),
    ({"duration_days": "abc"},                  "duration_days",      NOT_AN_INTEGER),
    ({"duration_days": "1.5"},                  "duration_days",      NOT_AN_INTEGER),
    ({"duration_days": ""},                     "duration_days",      NO_DAYS),
    ({"currency": "XYZ"},                       "currency",           NOT_A_CHOICE),
    ({"category_id": "999"},                    "category_id",        NOT_A_CHOICE),
    ({"creator_timezone": "Mars/Olympus_Mons"}, "creator_timezone",   NOT_A_CHOICE),
]

PROJECT_ACCEPTED = [
    # what is sent                              column               stored as
    ({"title": "x" * 80},                       "title",             "x" * 80),
    ({"title": "  Moon Lamp  "},                "title",             "Moon Lamp"),
    ({"blurb": "x" * 160},                      "blurb",             "x" * 160),
    ({"story": "x" * 50_000},                   "story",             "x" * 50_000),
    ({"goal": "0.01"},                          "goal_amount",       1),
    ({"goal": "$1,250.50"},                     "goal_amount",       125_050),
    ({"goal": "100000000"},                     "goal_amount",       10_000_000_000),
    ({"goal": "100000000", "currency": "JPY"},  "goal_amount",       100_000_000),
    ({"duration_days": "1"},                    "duration_days",     1),
    ({"duration_days": "60"},                   "duration_days",     60),
]
# fmt: on


def _case_id(case) -> str:
    sent = ", ".join(
        f"{k}={v if len(str(v)) <= 20 else f'{len(v)} chars'}" for k, v in case.items()
    )
    return sent or "nothing"


# ---- the tier form ------------------------------------------------------------------------

TIER = {
    "title": "Early bird",
    "description": "One lamp.",
    "minimum": "45",
    "quantity_limit": "",
    "estimated_delivery": "2030-03",
}
W = {"ships": "y", "destinations-0-destination": "world"}  # ships anywhere, fee to fill in
FEE = "destinations-0-fee"

# fmt: off
TIER_REFUSED = [
    # what is sent                              field with the error  message shown
    ({"title": ""},                             "title",              REQUIRED),
    ({"title": "   "},                          "title",              REQUIRED),
    ({"title": "x" * 81},                       "title",              longer_than(80)),
    ({"description": "x" * 2001},               "description",        longer_than(2000)),
    ({"minimum": ""},                           "minimum",            REQUIRED),
    ({"minimum": "0"},                          "minimum",            MORE_THAN_ZERO),
    ({"minimum": "5.99"},                       "minimum",            BELOW_FLOOR),
    ({"minimum": "-1"},                         "minimum",            MORE_THAN_ZERO),
    ({"minimum": "abc"},                        "minimum",            NOT_A_NUMBER),
    ({"minimum": "1e5"},                        "minimum",            NOT_A_NUMBER),
    ({"minimum": "NaN"},                        "minimum",            NOT_A_NUMBER),
    ({"minimum": "10.001"},                     "minimum",            USD_DECIMALS),
    ({"minimum": "100000000.01"},               "minimum",            AT_MOST_USD),
    ({"quantity_limit": "0"},                   "quantity_limit",     QUANTITY),
    ({"quantity_limit": "-1"},                  "quantity_limit",     QUANTITY),
    ({"quantity_limit": "1000001"},             "quantity_limit",     QUANTITY),
    ({"quantity_limit": "abc"},                 "quantity_limit",     NOT_AN_INTEGER),
    ({"estimated_delivery": "2020-01"},         "estimated_delivery", PAST),
    ({"estimated_delivery": LAST_MONTH},        "estimated_delivery", PAST),
    ({"estimated_delivery": ""},                "estimated_delivery", NO_MONTH),
    ({"estimated_delivery": "2030-13"},         "estimated_delivery", NOT_A_DATE),
    ({"estimated_delivery": "March 2030"},      "estimated_delivery", NOT_A_DATE),
    ({**W, FEE: "-5"},                          FEE,                  NEGATIVE),
    ({**W, FEE: "abc"},                         FEE,                  NOT_A_NUMBER),
    ({**W, FEE: "1.234"},                       FEE,                  USD_DECIMALS),
    ({**W, "destinations-1-destination": "world"}, "destinations-1-destination", TWICE),
    ({**W, "destinations-0-destination": "XX"}, "destinations-0-destination", NOT_LISTED),
    ({**W, "destinations-0-destination": "domestic"}, "destinations-0-destination", NO_HOME),
    ({**W, "destinations-0-destination": "", FEE: "5"}, "destinations-0-destination", NO_PLACE),
]

TIER_ACCEPTED = [
    # what is sent                              column                stored as
    ({"minimum": "6"},                          "minimum_amount",     600),  # MINIMUM_PLEDGE
    ({"minimum": "100000000"},                  "minimum_amount",     10_000_000_000),
    ({"quantity_limit": "1"},                   "quantity_limit",     1),
    ({"quantity_limit": "1000000"},             "quantity_limit",     1_000_000),
    ({"estimated_delivery": THIS_MONTH},        "estimated_delivery", _today.replace(day=1)),
    ({**W, FEE: "0"},                           "fees_by_destination", {"world": 0}),
    ({**W, FEE: ""},                            "fees_by_destination", {"world": 0}),
    ({**W, FEE: "100000000"},                   "fees_by_destination", {"world": 10_000_000_000}),
    ({**W, "destinations-1-destination": "europe", "destinations-1-fee": "12",
      "destinations-2-destination": "JP", "destinations-2-fee": "20.50"},
                                                "fees_by_destination",
                                                {"world": 0, "europe": 1200, "JP": 2050}),
    ({"destinations-0-destination": "world", FEE: "-5"}, "fees_by_destination", {}),  # digital
]
# fmt: on


# ---- helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture(autouse=True)
def _compile_templates_once(app):
    app.jinja_env.bytecode_cache = SharedTemplateCache()


@pytest.fixture
def ada(browser):
    user = gen_user()
    browser.login()
    return user


def snapshot() -> dict[str, list[tuple]]:
    tables = (
        Project.__table__,
        RewardTier.__table__,
        TierShippingRule.__table__,
        ProjectEvent.__table__,
    )
    return {
        t.name: [tuple(row) for row in db.session.execute(select(t).order_by(t.c.id))]
        for t in tables
    }


def stored_files() -> set[str]:
    return {p.name for p in uploads.upload_dir().iterdir()}


def image_bytes(kind: str = "PNG", size=(64, 36)) -> bytes:
    """Noise, so the file does not compress to almost nothing."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, kind)
    return buffer.getvalue()


def project_url(page: str, owner) -> str:
    if page == "new":
        return "/projects/new"
    return f"/projects/{gen_project(owner, 'draft').id}/edit"


def tier_url(page: str, owner) -> str:
    project = gen_project(owner, "draft", tiers=0)
    if page == "new":
        return f"/projects/{project.id}/tiers/new"
    tier = gen_tier(project, title="Old tier")
    db.session.commit()
    return f"/tiers/{tier.id}/edit"


def assert_refused(response, field: str, message: str, before: dict) -> None:
    assert response.status_code == 200, response.headers.get("Location")
    assert message in field_errors(response.get_data(as_text=True), field)
    assert snapshot() == before, "a refused form changed the database"


# ---- the project form ---------------------------------------------------------------------


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize(
    ("sent", "field", "message"), PROJECT_REFUSED, ids=[_case_id(c[0]) for c in PROJECT_REFUSED]
)
def test_project_form_refuses(browser, ada, page, sent, field, message):
    url = project_url(page, ada)
    before, files = snapshot(), stored_files()
    response = browser.submit(url, {**PROJECT, **sent})
    assert_refused(response, field, message, before)
    assert stored_files() == files


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize(
    ("sent", "column", "stored"), PROJECT_ACCEPTED, ids=[_case_id(c[0]) for c in PROJECT_ACCEPTED]
)
def test_project_form_accepts_the_limits(browser, ada, page, sent, column, stored):
    response = browser.submit(project_url(page, ada), {**PROJECT, **sent})
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), column)
    project = db.session.scalar(select(Project))
    assert getattr(project, column) == stored


def test_every_field_comes_before_the_save_button(browser, ada):
    """Errors show next to their field, above the button: not below it, out of sight."""
    page = browser.client.get("/projects/new").get_data(as_text=True)
    save = page.index('type="submit" value="Save"')
    for name in [*PROJECT, "cover"]:
        assert page.index(f'name="{name}"') < save, name


# ---- the cover image ----------------------------------------------------------------------

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
PNG = image_bytes()

COVERS = [
    pytest.param("cover.png", b"Just some notes, not an image.\n", id="text named .png"),
    pytest.param("cover.gif", image_bytes("GIF"), id="GIF"),
    pytest.param("cover.png", PNG[: len(PNG) // 2], id="truncated PNG"),
    pytest.param("cover.png", PNG[:-12], id="PNG without its end"),
    pytest.param("cover.svg", SVG, id="SVG with a script"),
    pytest.param("cover.png", SVG, id="SVG named .png"),
    pytest.param("cover.png", b"", id="empty file"),
]


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize(("filename", "data"), COVERS)
def test_cover_that_is_not_an_image_is_refused_and_not_stored(browser, ada, page, filename, data):
    url = project_url(page, ada)
    before, files = snapshot(), stored_files()
    response = browser.submit(
        url,
        {**PROJECT, "cover": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert_refused(response, "cover", NOT_AN_IMAGE, before)
    assert stored_files() == files


@pytest.mark.parametrize("page", ["new", "edit"])
def test_a_valid_cover_is_not_stored_when_another_field_is_refused(browser, ada, page):
    url = project_url(page, ada)
    before, files = snapshot(), stored_files()
    response = browser.submit(
        url,
        {**PROJECT, "title": "", "cover": (io.BytesIO(PNG), "cover.png")},
        content_type="multipart/form-data",
    )
    assert_refused(response, "title", REQUIRED, before)
    assert stored_files() == files


@pytest.mark.parametrize("page", ["new", "edit"])
def test_cover_over_cover_max_bytes_is_refused(app, browser, ada, page):
    app.config["COVER_MAX_BYTES"] = 1024
    url = project_url(page, ada)
    before, files = snapshot(), stored_files()
    response = browser.submit(
        url,
        {**PROJECT, "cover": (io.BytesIO(PNG), "cover.png")},
        content_type="multipart/form-data",
    )
    assert_refused(response, "cover", "The image is too large: at most 1 KB.", before)
    assert stored_files() == files

    app.config["COVER_MAX_BYTES"] = len(PNG)  # exactly at the limit: accepted
    response = browser.submit(
        url,
        {**PROJECT, "cover": (io.BytesIO(PNG), "cover.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (added,) = stored_files() - files
    assert db.session.scalar(select(Project).where(Project.cover_image == added)) is not None


@pytest.mark.parametrize(
    ("limit", "shown"),
    [
        (5 * 1024 * 1024, "5 MB"),
        (1536 * 1024, "1.5 MB"),
        (200 * 1024, "200 KB"),
        (900, "900 bytes"),
    ],
)
def test_the_cover_size_limit_is_shown_in_sensible_units(app, limit, shown):
    app.config["COVER_MAX_BYTES"] = limit
    with pytest.raises(uploads.UploadError, match=f"at most {shown}\\.$"):
        uploads.save_cover(b"x" * (limit + 1))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"story": "x" * 5000}, id="long story"),
        pytest.param({"cover": (io.BytesIO(b"\0" * 5000), "cover.png")}, id="large file"),
    ],
)
def test_a_body_over_max_content_length_is_413_and_saves_nothing(app, browser, ada, body):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before, files = snapshot(), stored_files()
    response = browser.submit(
        "/projects/new", {**PROJECT, **body}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "What you sent is larger than we accept." in response.get_data(as_text=True)
    assert snapshot() == before
    assert stored_files() == files


# ---- the tier form ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize(
    ("sent", "field", "message"), TIER_REFUSED, ids=[_case_id(c[0]) for c in TIER_REFUSED]
)
def test_tier_form_refuses(browser, ada, page, sent, field, message):
    url = tier_url(page, ada)
    before = snapshot()
    response = browser.submit(url, {**TIER, **sent})
    assert_refused(response, field, message, before)


@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize(
    ("sent", "column", "stored"), TIER_ACCEPTED, ids=[_case_id(c[0]) for c in TIER_ACCEPTED]
)
def test_tier_form_accepts_the_limits(browser, ada, page, sent, column, stored):
    response = browser.submit(tier_url(page, ada), {**TIER, **sent})
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), column)
    tier = db.session.scalar(select(RewardTier))
    assert getattr(tier, column) == stored


def test_a_yen_tier_has_no_decimals(browser, ada):
    project = gen_project(ada, "draft", currency="JPY", tiers=0)
    before = snapshot()
    response = browser.submit(f"/projects/{project.id}/tiers/new", {**TIER, "minimum": "10.5"})
    assert_refused(response, "minimum", "JPY amounts have no decimals.", before)
    response = browser.submit(f"/projects/{project.id}/tiers/new", {**TIER, "minimum": "1000"})
    assert response.status_code == 302
    assert db.session.scalar(select(RewardTier.minimum_amount)) == 1000


def test_the_delivery_month_is_stored_as_its_first_day(browser, ada):
    project = gen_project(ada, "draft", tiers=0)
    browser.submit(f"/projects/{project.id}/tiers/new", {**TIER, "estimated_delivery": "2031-07"})
    assert db.session.scalar(select(RewardTier.estimated_delivery)) == date(2031, 7, 1)
