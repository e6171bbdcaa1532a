"""Saving a project ("Remind me") through the project page (issue 14.4)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.follows.models import Follow
from tests.helpers import Browser, csrf_token, gen_project, gen_user, page_text


def signed_in(app, email="ann@example.com", name="Ann") -> Browser:
    gen_user(email, name)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


def follows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Follow))


def remind_me(browser, project):
    url = f"/projects/{project.id}"
    return browser.submit(url, action=f"/projects/{project.id}/follow")


def test_remind_me_saves_the_project_once(app, project):
    ann = signed_in(app)
    assert "Remind me" in page_text(ann, f"/projects/{project.id}")
    assert remind_me(ann, project).status_code == 302
    page = page_text(ann, f"/projects/{project.id}")
    assert "Saved: we will remind you." in page and "Remind me" not in page
    # A second click from a stale page saves nothing more.
    ann.client.post(
        f"/projects/{project.id}/follow",
        data={"csrf_token": csrf_token(ann)},
    )
    assert follows() == 1
    saved = page_text(ann, "/my/saved")
    assert "Moon Lamp" in saved and "48 hours before it ends" in saved


def test_removing_it(app, project):
    ann = signed_in(app)
    remind_me(ann, project)
    ann.submit(f"/projects/{project.id}", action=f"/projects/{project.id}/unfollow")
    assert follows() == 0
    assert "Nothing saved yet" in page_text(ann, "/my/saved")


def test_an_approved_project_can_be_followed_by_who_sees_it(app, creator):
    from app.accounts.models import Role

    upcoming = gen_project(creator, "approved", title="Sun Lamp")
    mo = Browser(app.test_client())
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    mo.login("mo@example.com")
    assert remind_me(mo, upcoming).status_code == 302
    assert follows() == 1


def test_an_ended_project_is_not_followed(app, creator):
    ended = gen_project(creator, "cancelled", title="Old Lamp")
    ann = signed_in(app)
    assert "Remind me" not in page_text(ann, f"/projects/{ended.id}")
    ann.client.post(f"/projects/{ended.id}/follow", data={"csrf_token": csrf_token(ann)})
    assert follows() == 0
    assert "Only a live or an upcoming project can be followed." in page_text(ann, "/")


def test_the_creator_does_not_follow_their_own(app, creator, project):
    owner = Browser(app.test_client())
    owner.login(creator.email)
    assert "Remind me" not in page_text(owner, f"/projects/{project.id}")


def test_a_visitor_is_asked_to_log_in(app, project):
    response = app.test_client().get(f"/projects/{project.id}", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Log in to be reminded before it ends" in page


def test_in_chinese(app, project):
    ann = signed_in(app)
    ann.submit("/", {"locale": "zh_Hans_CN", "next": "/"}, action="/language")
    assert "提醒我" in page_text(ann, f"/projects/{project.id}")
    assert "收藏的项目" in page_text(ann, "/my/saved")
