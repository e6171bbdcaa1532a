"""A follower's two mails (issue 14.4): "<title> is live" when the project launches, and a
reminder before its deadline to followers who have not backed it, each once per follower,
in the follower's language, and never to those who turned them off."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from app.extensions import db
from app.notifications import reminders
from app.scheduler import send_notifications
from tests.helpers import Browser, gen_project, gen_user, project_path
from tests.helpers.notifications import (
    assert_multipart,
    clear_outbox,
    mail_to,
    outbox,
    words_of,
)
from tests.helpers.pledging import new_backer, pay_through_pages

LAUNCHED = "followed_launched"
ENDING = "followed_ending"


@pytest.fixture(autouse=True)
def scheduler_mails_to_the_file(monkeypatch, file_backend):
    from app.notifications import sender

    monkeypatch.setattr(sender, "backend_from_config", lambda: file_backend)


def follower(app, project, email: str, name: str, locale: str | None = None) -> Browser:
    """Someone who saved the project with its "Remind me" button (in ``locale``, if given)."""
    browser = new_backer(app, email, name)
    if locale:
        browser.submit("/", {"locale": locale, "next": "/"}, action="/language")
    response = browser.submit(project_path(project), action=f"/projects/{project.id}/follow")
    assert response.status_code == 302
    return browser


def turn_off_reminders(browser: Browser) -> None:
    response = browser.submit("/settings/notifications", {"topic_followed_projects": None})
    assert response.status_code == 302


def launch(app, project) -> None:
    owner = Browser(app.test_client())
    owner.login("creator@example.com")
    owner.submit(project_path(project), action=f"/projects/{project.id}/launch")
    db.session.refresh(project)
    assert project.is_live


def recipients(kind: str) -> list[str]:
    return sorted(row.to_address for row in outbox(kind))


# ---- at launch ----------------------------------------------------------------------------


def test_every_follower_hears_of_the_launch_once_in_their_language(
    app, creator, file_backend, mail_file
):
    upcoming = gen_project(creator, "approved", duration_days=10)
    follower(app, upcoming, "ann@example.com", "Ann")
    follower(app, upcoming, "bo@example.com", "Bo", locale="zh_Hans_CN")
    turn_off_reminders(follower(app, upcoming, "cy@example.com", "Cy"))

    launch(app, upcoming)
    send_notifications()
    send_notifications()  # a second run sends nothing more

    assert recipients(LAUNCHED) == ["ann@example.com", "bo@example.com"]
    (ann,) = mail_to(mail_file, "ann@example.com")
    assert ann["Subject"] == "Moon Lamp is live"
    text, html = assert_multipart(ann)
    assert "you can back it until" in words_of(ann) and "$1,000.00" in html
    assert f"http://127.0.0.1:5000{project_path(upcoming)}" in text
    assert ann["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/mail/unsubscribe/")
    (bo,) = mail_to(mail_file, "bo@example.com")
    assert bo["Subject"] == "“Moon Lamp”已上线"
    assert "你收藏的项目" in words_of(bo)
    assert mail_to(mail_file, "cy@example.com") == []


def test_following_after_the_launch_brings_no_launch_mail(app, creator, project):
    follower(app, project, "ann@example.com", "Ann")
    send_notifications()
    assert outbox(LAUNCHED) == []


# ---- before the deadline ----------------------------------------------------------------------


def test_the_reminder_goes_once_to_followers_who_have_not_backed(
    app, creator, project, stripe_fake, clock, file_backend, mail_file
):
    follower(app, project, "ann@example.com", "Ann", locale="zh_Hans_CN")
    bea = follower(app, project, "bea@example.com", "Bea")
    pay_through_pages(bea, stripe_fake, project, amount="25")  # she backed it
    turn_off_reminders(follower(app, project, "cy@example.com", "Cy"))
    clear_outbox()

    clock.advance(days=27)  # three days left: not yet
    send_notifications()
    assert outbox(ENDING) == []

    clock.advance(days=1, hours=1)  # 47 hours left
    send_notifications()
    send_notifications()  # the job runs again: nothing more
    reminders.write_due(clock.now())
    db.session.commit()
    assert recipients(ENDING) == ["ann@example.com"]
    (ann,) = mail_to(mail_file, "ann@example.com")
    assert ann["Subject"] == "Moon Lamp 还剩 48 小时截止"
    text, _html = assert_multipart(ann)
    assert f"http://127.0.0.1:5000/projects/{project.id}/back" in text
    assert ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail_to(mail_file, "cy@example.com") == []


def test_an_ended_project_reminds_no_one(app, creator, project, clock):
    follower(app, project, "ann@example.com", "Ann")
    clock.jump_past(project.deadline)
    send_notifications()
    assert outbox(ENDING) == []


def test_a_campaign_shorter_than_the_lead_time_gets_the_launch_mail_only(
    app, creator, file_backend
):
    upcoming = gen_project(creator, "approved", duration_days=2)
    follower(app, upcoming, "ann@example.com", "Ann")
    launch(app, upcoming)
    send_notifications()
    assert recipients(LAUNCHED) == ["ann@example.com"] and outbox(ENDING) == []


def test_the_lead_time_is_a_setting(app, creator, project, clock):
    app.config["FOLLOW_REMINDER_HOURS"] = 72
    follower(app, project, "ann@example.com", "Ann")
    clock.advance(days=27, hours=1)  # 71 hours left
    send_notifications()
    (row,) = outbox(ENDING)
    assert row.data == {"hours": 72}


# ---- two scheduler processes at once ------------------------------------------------------

RACERS = 4


@pytest.mark.postgres
def test_reminder_jobs_at_once_write_one_mail_per_follower(
    app, creator, project, clock, test_config, instance_dir
):
    fast = [gen_user(f"f{i}@example.com", f"F{i}") for i in range(20)]
    from app.follows import services as follows

    for user in fast:
        follows.follow(project, user.id)
    db.session.commit()
    clock.advance(days=29)
    racing = create_app(
        {**test_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS, "max_overflow": 0}},
        instance_path=instance_dir,
    )
    start = threading.Barrier(RACERS, timeout=30)

    def run(_: int) -> None:
        with racing.app_context():
            try:
                start.wait(timeout=10)
                reminders.write_due(clock.now())
                db.session.commit()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        list(pool.map(run, range(RACERS)))
    with racing.app_context():
        db.engine.dispose()
    assert recipients(ENDING) == sorted(u.email for u in fast)
