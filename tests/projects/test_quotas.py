"""Quotas per account: cover uploads per hour, and drafts open at once.

Past a quota the page says why (and, for uploads, when to try again), and nothing changes:
no project row, no changed field, no stored file, nothing counted. The counts live in the
database, so they hold across web workers, and requests of one account at the same moment
never pass a quota together (the user row's lock on PostgreSQL, the write lock on SQLite).
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app import clock as app_clock
from app import create_app
from app.accounts.models import Role, User
from app.extensions import db
from app.projects import services, uploads
from app.projects.models import CoverUpload, Project
from tests.helpers import Browser, gen_project, gen_user, parse_forms
from tests.helpers.forms import PROJECT as FIELDS
from tests.helpers.forms import field_errors

NOON = datetime(2031, 3, 4, 12, 0, 20, tzinfo=UTC)  # 20 seconds past the minute
LAYOUT = ("/logout", "/language")  # the forms every page has: log out, the language switch


class Clock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def advance(self, **kwargs) -> None:
        self.moment += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock(NOON)
    monkeypatch.setattr(app_clock, "now", fake.now)
    return fake


@pytest.fixture
def owner(app):
    return gen_user("owner@example.com", "Owner")


@pytest.fixture
def logged_in(browser, owner) -> Browser:
    assert browser.login("owner@example.com").status_code == 302
    return browser


def png(colour=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), colour).save(buffer, "PNG")
    return buffer.getvalue()


def with_cover(fields: dict, colour=(200, 120, 40)) -> dict:
    return {**fields, "cover": (io.BytesIO(png(colour)), "cover.png")}


def files() -> set:
    return set(uploads.upload_dir().iterdir())


def rows(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def uploaded(user: User, *ages_in_minutes: float) -> None:
    """Cover uploads the account made that many minutes before the clock's now."""
    db.session.add_all(
        CoverUpload(user_id=user.id, created_at=app_clock.now() - timedelta(minutes=m))
        for m in ages_in_minutes
    )
    db.session.commit()


NOTHING_SAVED = (
    "Nothing was saved: the cover image was refused (the reason is under “Cover image”)."
)


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


# ---- cover uploads per hour -------------------------------------------------------------


def test_an_upload_past_the_hourly_quota_is_refused_with_when_and_nothing_changes(
    app, clock, owner, logged_in
):
    assert app.config["COVER_UPLOADS_PER_HOUR"] == 20
    project = gen_project(owner)
    project_id, cover = project.id, project.cover_image
    # 20 in the last hour, the oldest 50 minutes ago: the next one may come at 12:10:20,
    # said as 12:11 (rounded up, so that trying then always works).
    uploaded(owner, 50, *range(1, 20))
    before_files = files()

    response = logged_in.submit(
        f"/projects/{project_id}/edit",
        with_cover({**FIELDS, "title": "A new title"}),
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Said in the creator's time zone (the form's: Europe/Paris, an hour ahead in March).
    assert field_errors(page, "cover") == [
        "You have uploaded 20 covers in the last hour, the most allowed. You can upload "
        "another in 11 minutes (at 13:11 CET); until then, save without choosing a file."
    ]
    assert NOTHING_SAVED in page_text(response)
    assert files() == before_files
    assert rows(CoverUpload) == 20
    project = db.session.get(Project, project_id)
    assert (project.title, project.cover_image) == ("Moon Lamp", cover)  # nothing saved

    # Without a file the same form saves: only uploads count.
    response = logged_in.submit(f"/projects/{project_id}/edit", {**FIELDS, "title": "A new title"})
    assert response.status_code == 302
    assert db.session.get(Project, project_id).title == "A new title"
    assert rows(CoverUpload) == 20

    # At the time the message gave, the upload goes through.
    clock.moment = NOON.replace(minute=11, second=0)
    response = logged_in.submit(
        f"/projects/{project_id}/edit", with_cover(FIELDS), content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.get(Project, project_id).cover_image != cover
    assert rows(CoverUpload) == 20  # the one 50 minutes old was purged, the new one counted


def test_a_new_project_with_a_cover_past_the_quota_writes_no_row(app, clock, owner, logged_in):
    uploaded(owner, *range(20))  # the oldest 19 minutes ago: the next at 12:41:20
    before_files = files()

    response = logged_in.submit(
        "/projects/new", with_cover(FIELDS), content_type="multipart/form-data"
    )

    assert response.status_code == 200
    (error,) = field_errors(response.get_data(as_text=True), "cover")
    assert error.startswith("You have uploaded 20 covers in the last hour, the most allowed.")
    assert "in 42 minutes (at 13:42 CET)" in error
    assert NOTHING_SAVED in page_text(response)
    assert rows(Project) == 0
    assert files() == before_files
    assert rows(CoverUpload) == 20
    # The text typed is still in the form.
    assert 'value="Moon Lamp"' in response.get_data(as_text=True)


def test_uploads_count_toward_the_quota_one_by_one_and_leave_the_window(
    app, clock, owner, logged_in
):
    app.config["COVER_UPLOADS_PER_HOUR"] = 3
    project = gen_project(owner)
    for i in range(3):
        response = logged_in.submit(
            f"/projects/{project.id}/edit",
            with_cover(FIELDS, (i, i, i)),
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, i
        clock.advance(minutes=10)
    assert rows(CoverUpload) == 3
    cover = db.session.get(Project, project.id).cover_image
    stored = files()

    # 12:30:20 now; the first upload (12:00:20) leaves the window at 13:00:20.
    response = logged_in.submit(
        f"/projects/{project.id}/edit", with_cover(FIELDS), content_type="multipart/form-data"
    )
    assert (
        "in 31 minutes (at 14:01 CET)" in field_errors(response.get_data(as_text=True), "cover")[0]
    )
    assert files() == stored
    assert db.session.get(Project, project.id).cover_image == cover

    clock.moment = NOON + timedelta(hours=1)  # exactly an hour after the first
    response = logged_in.submit(
        f"/projects/{project.id}/edit", with_cover(FIELDS), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    assert rows(CoverUpload) == 3  # the first purged, the new one counted
    # The replaced covers' files are removed: only the current one is left of this project's.
    assert not (uploads.upload_dir() / cover).exists()


def test_refused_images_and_other_accounts_uploads_do_not_count(app, clock, owner, logged_in):
    app.config["COVER_UPLOADS_PER_HOUR"] = 1
    other = gen_user("other@example.com", "Other")
    uploaded(other, 1, 2, 3)
    project = gen_project(owner)

    response = logged_in.submit(
        f"/projects/{project.id}/edit",
        {**FIELDS, "cover": (io.BytesIO(b"not an image"), "cover.png")},
        content_type="multipart/form-data",
    )
    assert field_errors(response.get_data(as_text=True), "cover") == [
        "The file is not a PNG, JPEG or WebP image."
    ]
    assert rows(CoverUpload) == 3

    response = logged_in.submit(
        f"/projects/{project.id}/edit", with_cover(FIELDS), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    counted = db.session.scalars(select(CoverUpload.user_id)).all()
    assert sorted(counted) == sorted([other.id] * 3 + [project.owner_id])


def test_a_live_projects_cover_upload_is_refused_past_the_quota(app, clock, owner, logged_in):
    project = gen_project(owner, "live", creator_timezone="America/New_York")
    project_id, cover = project.id, project.cover_image
    uploaded(owner, *range(20))
    response = logged_in.submit(
        f"/projects/{project_id}/edit",
        with_cover({k: FIELDS[k] for k in ("title", "blurb", "story")}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    (error,) = field_errors(response.get_data(as_text=True), "cover")
    assert error.startswith("You have uploaded 20 covers") and "(at 07:42 EST)" in error
    assert db.session.get(Project, project_id).cover_image == cover


def test_a_cover_refused_at_the_last_moment_is_removed_again(app, clock, owner, logged_in):
    """The quota is counted again when the upload is recorded (under the account's lock):
    if another upload of the account took the last place meanwhile, this one's file goes."""
    project = gen_project(owner)
    project_id, cover = project.id, project.cover_image
    uploaded(owner, *range(19))
    real_save = uploads.save_cover

    def save_while_another_tab_uploads(data: bytes) -> str:
        name = real_save(data)
        with app.app_context():  # another request of the same account, committed meanwhile
            db.session.add(CoverUpload(user_id=owner.id, created_at=app_clock.now()))
            db.session.commit()
        return name

    before_files = files()
    app_save = pytest.MonkeyPatch()
    app_save.setattr(uploads, "save_cover", save_while_another_tab_uploads)
    try:
        response = logged_in.submit(
            f"/projects/{project_id}/edit",
            with_cover({**FIELDS, "title": "Not saved"}),
            content_type="multipart/form-data",
        )
    finally:
        app_save.undo()

    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "cover")[0].startswith(
        "You have uploaded 20 covers in the last hour"
    )
    assert files() == before_files
    assert rows(CoverUpload) == 20
    project = db.session.get(Project, project_id)
    assert (project.title, project.cover_image) == ("Moon Lamp", cover)


# ---- drafts open at once ----------------------------------------------------------------


def test_the_new_project_page_says_the_draft_quota_is_reached_and_shows_no_form(
    app, owner, logged_in
):
    assert app.config["DRAFTS_PER_ACCOUNT"] == 5
    for i in range(3):
        gen_project(owner, title=f"Draft {i}")
    for i in range(2):
        gen_project(owner, "submitted", title=f"In review {i}")

    response = logged_in.client.get("/projects/new")

    assert response.status_code == 200
    text = page_text(response)
    assert (
        "You already have 5 projects open (3 drafts, 2 in review), the most an account may "
        "have at once. Drafts cannot be deleted: to start another, submit a draft for review, "
        "wait for the moderators' decision on one in review, or reuse one of your drafts "
        "(everything in a draft can still be changed)."
    ) in text
    assert 'href="/my/projects"' in response.get_data(as_text=True)
    assert not [
        f for f in parse_forms(response.get_data(as_text=True)) if f["action"] not in LAYOUT
    ]


def test_creating_past_the_draft_quota_is_refused_and_writes_no_row(app, clock, owner, logged_in):
    for i in range(4):
        gen_project(owner, title=f"Draft {i}")
    # The form is opened while a place is left; another tab takes it meanwhile.
    page = logged_in.client.get("/projects/new")
    (form,) = [f for f in parse_forms(page.get_data(as_text=True)) if f["action"] not in LAYOUT]
    gen_project(owner, title="Draft from another tab")
    before = rows(Project), files()

    response = logged_in.client.post(
        "/projects/new",
        data=with_cover({**form["fields"], **FIELDS, "title": "One too many"}),
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    text = page_text(response)
    assert "You already have 5 projects open (5 drafts), the most an account" in text
    assert "Nothing was saved. What you wrote is kept below" in text
    assert 'value="One too many"' in response.get_data(as_text=True)
    assert re.search(
        r'<input[^>]*disabled[^>]*type="submit"|<input[^>]*type="submit"[^>]*disabled',
        response.get_data(as_text=True),
    )
    assert (rows(Project), files()) == before
    assert rows(CoverUpload) == 0  # the cover was not even decoded


def test_only_drafts_and_projects_in_review_count(app, owner, logged_in):
    for status in ("approved", "rejected", "live", "cancelled"):
        gen_project(owner, status, title=status)
    for i in range(4):
        gen_project(owner, title=f"Draft {i}")
    gen_project(gen_user("other@example.com", "Other"), title="Someone else's")

    response = logged_in.submit("/projects/new", FIELDS)

    assert response.status_code == 302
    assert services.open_drafts(owner.id) == {
        services.S.DRAFT: 5,
        services.S.SUBMITTED: 0,
    }
    assert "You already have 5 projects open (5 drafts)" in page_text(
        logged_in.client.get("/projects/new")
    )


def test_a_decision_on_a_project_in_review_frees_a_place(app, owner, logged_in):
    for i in range(4):
        gen_project(owner, title=f"Draft {i}")
    waiting = gen_project(owner, "submitted", title="Waiting")
    assert "You already have 5 projects open (4 drafts, 1 in review)" in page_text(
        logged_in.client.get("/projects/new")
    )

    moderator = gen_user("mod@example.com", "Mod", role=Role.MODERATOR)
    services.approve(db.session.get(Project, waiting.id), moderator)
    db.session.commit()

    response = logged_in.submit("/projects/new", FIELDS)
    assert response.status_code == 302
    assert rows(Project) == 6


def test_create_draft_itself_refuses_past_the_quota(app, owner):
    app.config["DRAFTS_PER_ACCOUNT"] = 1
    gen_project(owner)
    with pytest.raises(
        services.DraftQuotaReached, match=r"You already have 1 project open \(1 draft\)"
    ):
        services.create_draft(owner, {"title": "x", "currency": "USD"})
    db.session.rollback()
    assert rows(Project) == 1


# ---- several at once: real threads, each with its own connection ---------------------

RACERS = 12


def race(app_config, instance_dir, attempt, count: int) -> list[str]:
    racing = create_app(
        {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS, "max_overflow": 0}},
        instance_path=instance_dir,
    )
    start = threading.Barrier(RACERS, timeout=30)

    def run(i: int) -> str:
        with racing.app_context():
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=10)
            try:
                attempt(i)
                db.session.commit()
                return "made"
            except services.ProjectError:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        results = list(pool.map(run, range(count)))
    with racing.app_context():
        db.engine.dispose()
    return results


def test_drafts_created_at_once_never_pass_the_quota(app, owner, test_config, instance_dir):
    gen_project(owner, title="Already open")
    owner_id = owner.id

    def attempt(i: int) -> None:
        services.create_draft(db.session.get(User, owner_id), {**DRAFT, "title": f"Race {i}"})

    results = race(test_config, instance_dir, attempt, RACERS)

    assert results.count("made") == 4 and results.count("refused") == RACERS - 4
    assert rows(Project) == 5


def test_uploads_recorded_at_once_never_pass_the_quota(app, owner, test_config, instance_dir):
    uploaded(owner, *range(15))
    owner_id = owner.id

    def attempt(i: int) -> None:
        services.check_cover_quota(owner_id, app_clock.now())
        services.record_cover_upload(owner_id, app_clock.now())

    results = race(test_config, instance_dir, attempt, RACERS)

    assert results.count("made") == 5 and results.count("refused") == RACERS - 5
    assert rows(CoverUpload) == 20


DRAFT = {
    "title": "Race",
    "blurb": "",
    "story": "",
    "currency": "USD",
    "goal_amount": 100_000,
    "duration_days": 30,
}
