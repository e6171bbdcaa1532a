"""From a creator's draft to a live page: the whole story through the real forms."""

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.projects.models import Project, ProjectEvent
from tests.helpers import STORY, gen_project, gen_user, project_path


def png_bytes(size=(32, 18)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def draft_fields(**overrides):
    fields = {
        "title": "Moon Lamp",
        "blurb": "A lamp shaped like the moon.",
        "story": STORY,
        "category_id": "4",
        "currency": "EUR",
        "goal": "5,000.50",
        "duration_days": "30",
        "creator_timezone": "Europe/Paris",
    }
    fields.update(overrides)
    return fields


def test_creator_writes_draft_adds_tier_and_submits(browser, client):
    ada = gen_user()
    browser.login()
    response = browser.submit(
        "/projects/new",
        {**draft_fields(), "cover": (io.BytesIO(png_bytes()), "cover.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    project = db.session.scalar(select(Project))
    assert (project.owner_id, project.status.value) == (ada.id, "draft")
    assert (project.goal_amount, project.currency) == (500_050, "EUR")
    assert project.cover_image.endswith(".png")
    with client.get(f"/uploads/{project.cover_image}") as cover:
        assert cover.status_code == 200 and cover.mimetype == "image/png"

    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "at least one reward tier" in page

    response = browser.submit(
        f"/projects/{project.id}/tiers/new",
        {
            "title": "Early bird",
            "description": "One lamp.",
            "minimum": "45",
            "quantity_limit": "100",
            "estimated_delivery": "2030-03",
            "ships": "y",
            "destinations-0-destination": "world",
            "destinations-0-fee": "7.50",
            "destinations-1-destination": "JP",
            "destinations-1-fee": "12",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    tier = project.tiers[0]
    assert (tier.minimum_amount, tier.quantity_limit) == (4500, 100)
    assert tier.fees_by_destination == {"world": 750, "JP": 1200}

    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "Everything is in place." in page
    response = browser.submit(
        f"/projects/{project.id}/edit", action=f"/projects/{project.id}/submit"
    )
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.status.value == "submitted"
    mine = client.get("/my/projects").get_data(as_text=True)
    assert "number <strong>1</strong> in the queue" in mine


def test_incomplete_draft_cannot_be_submitted(browser, client):
    ada = gen_user()
    project = gen_project(ada, tiers=0)
    browser.login()
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "at least one reward tier" in page
    response = browser.submit(
        f"/projects/{project.id}/edit",
        action=f"/projects/{project.id}/submit",
        follow_redirects=True,
    )
    assert "It still needs: at least one reward tier." in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "draft"


def test_moderator_works_the_queue_oldest_first(browser, client, app):
    ada = gen_user()
    first = gen_project(ada, "submitted", title="First in line")
    second = gen_project(ada, "submitted", title="Second in line")
    first.submitted_at = second.submitted_at - timedelta(hours=3)
    db.session.commit()
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    browser.login("mo@example.com")
    page = client.get("/moderation/").get_data(as_text=True)
    assert page.index("First in line") < page.index("Second in line")
    assert "3 hours" in page


def test_request_changes_needs_a_reason_and_sends_the_draft_back(browser, client):
    ada = gen_user()
    project = gen_project(ada, "submitted")
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    browser.login("mo@example.com")
    url = f"/moderation/projects/{project.id}"
    changes = f"/moderation/projects/{project.id}/request-changes"
    response = browser.submit(url, {"changes-reason": ""}, action=changes, follow_redirects=True)
    assert "Give a reason: the creator will see it." in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "submitted"

    browser.submit(url, {"changes-reason": "Please add photos of the prototype."}, action=changes)
    db.session.refresh(project)
    assert project.status.value == "draft"
    event = db.session.scalars(select(ProjectEvent).order_by(ProjectEvent.id.desc())).first()
    assert (event.action, event.actor.email, event.reason) == (
        "request_changes",
        "mo@example.com",
        "Please add photos of the prototype.",
    )

    browser.logout()
    browser.login()
    assert "Please add photos of the prototype." in client.get("/my/projects").get_data(
        as_text=True
    )


def test_approve_then_launch_fixes_the_deadline(browser, client):
    ada = gen_user()
    project = gen_project(ada, "submitted", duration_days=10, creator_timezone="Asia/Shanghai")
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    browser.login("mo@example.com")
    browser.submit(
        f"/moderation/projects/{project.id}", action=f"/moderation/projects/{project.id}/approve"
    )
    db.session.refresh(project)
    assert project.status.value == "approved"
    assert client.get(project_path(project)).status_code == 200  # moderators see it

    browser.logout()
    browser.login()
    response = browser.submit(project_path(project), action=f"/projects/{project.id}/launch")
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.status.value == "live"
    assert project.deadline - project.launched_at == timedelta(days=10)
    assert project.deadline.tzinfo is not None

    anonymous = client.application.test_client()
    page = anonymous.get(project_path(project)).get_data(as_text=True)
    assert "Moon Lamp" in page and "10 days to go" in page  # a 10-day project, just launched
    assert "CST" in page and "Asia/Shanghai" in page  # the creator's time zone
    assert f'datetime="{project.deadline.isoformat()}"' in page  # for the viewer's own
    assert "$0.00" in page and "$1,000.00" in page
    assert "Moon Lamp" in anonymous.get("/discover").get_data(as_text=True)
