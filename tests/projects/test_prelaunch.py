"""An approved project's public pre-launch page (issue 14.4): what it is, who makes it, and a
"Remind me" button; no pledges until it launches."""

from __future__ import annotations

from app.extensions import db
from app.follows.models import Follow
from tests.helpers import Browser, gen_project, gen_user, project_path


def page(client, url: str):
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def test_anyone_sees_the_pre_launch_page_without_a_way_to_pledge(app, creator):
    upcoming = gen_project(creator, "approved", title="Sun Lamp", duration_days=21)
    status, html = page(app.test_client(), project_path(upcoming))
    assert status == 200
    assert "Sun Lamp" in html and "A lamp shaped like the moon." in html
    assert "Coming soon" in html and "Runs 21 days from launch." in html
    assert f'src="/uploads/{upcoming.cover_image}"' in html
    assert f'href="/people/{creator.id}-cora" data-testid="creator-link">Cora</a>' in html
    assert "Log in to be told when it launches" in html
    assert "Back this project" not in html and f"/projects/{upcoming.id}/back" not in html


def test_remind_me_from_the_pre_launch_page(app, creator):
    upcoming = gen_project(creator, "approved", title="Sun Lamp")
    gen_user("ann@example.com", "Ann")
    ann = Browser(app.test_client())
    ann.login("ann@example.com")
    response = ann.submit(project_path(upcoming), action=f"/projects/{upcoming.id}/follow")
    assert response.status_code == 302
    assert db.session.query(Follow).filter_by(project_id=upcoming.id).count() == 1
    _, html = page(ann.client, project_path(upcoming))
    assert "Saved: we will remind you." in html and "Coming soon" in html
    assert ann.client.get(f"/projects/{upcoming.id}/back").status_code == 404  # no pledges yet


def test_the_creator_sees_their_own_page_and_is_told_what_visitors_see(app, creator):
    upcoming = gen_project(creator, "approved", title="Sun Lamp")
    owner = Browser(app.test_client())
    owner.login(creator.email)
    _, html = page(owner.client, project_path(upcoming))
    assert "Launch now" in html and "Coming soon" not in html
    assert "Until you launch, visitors see a pre-launch page" in html


def test_drafts_and_projects_in_review_stay_private(app, creator):
    for state in ("draft", "submitted", "rejected"):
        hidden = gen_project(creator, state, title=f"Hidden {state}")
        status, html = page(app.test_client(), f"/projects/{hidden.id}")
        assert status == 404 and "Hidden" not in html


def test_in_chinese(app, creator):
    upcoming = gen_project(creator, "approved", title="Sun Lamp")
    client = app.test_client()
    Browser(client).submit("/", {"locale": "zh_Hans_CN", "next": "/"}, action="/language")
    _, html = page(client, project_path(upcoming))
    assert "即将上线" in html


def test_the_creator_announces_a_launch_date_that_visitors_see(app, creator):
    from datetime import date, timedelta

    upcoming = gen_project(creator, "approved", title="Sun Lamp")
    owner = Browser(app.test_client())
    owner.login(creator.email)
    url, action = project_path(upcoming), f"/projects/{upcoming.id}/launch-date"
    past = str(date.today() - timedelta(days=2))
    refused = owner.submit(url, {"launch_on": past}, action=action, follow_redirects=True)
    assert "The launch date cannot be in the past." in refused.get_data(as_text=True)
    far = str(date.today() + timedelta(days=400))
    owner.submit(url, {"launch_on": far}, action=action)
    db.session.refresh(upcoming)
    assert upcoming.launch_on is None
    day = date.today() + timedelta(days=10)
    saved = owner.submit(url, {"launch_on": str(day)}, action=action, follow_redirects=True)
    assert "Launch date saved" in saved.get_data(as_text=True)
    _, html = page(app.test_client(), url)
    assert 'data-testid="launch-on"' in html and str(day.year) in html
    assert "The planned launch date." in html
    owner.submit(url, {"launch_on": ""}, action=action)  # withdrawn
    _, html = page(app.test_client(), url)
    assert "has not set a launch date yet" in html


def test_a_live_project_has_no_launch_date_to_plan(app, creator, project):
    owner = Browser(app.test_client())
    owner.login(creator.email)
    _, html = page(owner.client, project_path(project))
    assert 'data-testid="launch-date"' not in html
