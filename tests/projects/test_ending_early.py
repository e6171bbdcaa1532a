"""A creator cancels, a moderator suspends: recorded with reasons, then awaiting refunds."""

from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.projects.models import ProjectEvent
from tests.helpers import gen_project, gen_user, project_path


def last_event():
    return db.session.scalars(select(ProjectEvent).order_by(ProjectEvent.id.desc())).first()


def test_creator_cancels_a_live_project(browser, client):
    ada = gen_user()
    project = gen_project(ada, "live")
    browser.login()
    page = client.get(f"/projects/{project.id}/cancel").get_data(as_text=True)
    assert "every backer is refunded in full" in page
    response = browser.submit(
        f"/projects/{project.id}/cancel", {"reason": "Our factory closed."}, follow_redirects=True
    )
    assert "Every backer will be refunded in full." in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "cancelled" and project.ended_at is not None
    event = last_event()
    assert (event.action, event.actor_id, event.reason) == ("cancel", ada.id, "Our factory closed.")
    assert project.id not in [p.id for p in _discover_ids(client)]


def _discover_ids(client):
    from app.projects.models import Project

    page = client.get("/discover").get_data(as_text=True)
    return [p for p in db.session.scalars(select(Project)) if f'href="{project_path(p)}"' in page]


def test_moderator_suspends_with_a_reason(browser, client):
    ada = gen_user()
    project = gen_project(ada, "live")
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    browser.login("mo@example.com")
    review = f"/moderation/projects/{project.id}"
    suspend = f"{review}/suspend"
    response = browser.submit(
        review, {"suspend-reason": "  "}, action=suspend, follow_redirects=True
    )
    assert "Give a reason: the creator will see it." in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "live"

    browser.submit(review, {"suspend-reason": "Counterfeit goods."}, action=suspend)
    db.session.refresh(project)
    assert project.status.value == "suspended"
    event = last_event()
    assert (event.action, event.reason) == ("suspend", "Counterfeit goods.")
    page = client.get(review).get_data(as_text=True)
    assert "Counterfeit goods." in page and "Mo" in page  # the audit log


def test_cancelling_twice_is_a_message_not_an_error(browser, client):
    ada = gen_user()
    project = gen_project(ada, "cancelled")
    browser.login()
    from tests.helpers import parse_forms

    token = parse_forms(client.get("/").get_data(as_text=True))[0]["fields"]["csrf_token"]
    response = client.post(
        f"/projects/{project.id}/cancel",
        data={"csrf_token": token, "reason": "again"},
        headers={"Referer": f"http://localhost/projects/{project.id}"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert (
        "You cannot cancel this project: it is cancelled, and only a live project can be."
        in response.get_data(as_text=True)
    )


def test_launching_a_draft_is_refused_with_a_message(browser, client):
    ada = gen_user()
    project = gen_project(ada, "draft")
    browser.login()
    from tests.helpers import parse_forms

    token = parse_forms(client.get("/").get_data(as_text=True))[0]["fields"]["csrf_token"]
    response = client.post(
        f"/projects/{project.id}/launch", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You cannot launch this project: it is draft" in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status.value == "draft" and project.deadline is None


def test_live_project_keeps_goal_currency_and_duration(browser):
    ada = gen_user()
    project = gen_project(ada, "live", goal=100_000, currency="USD")
    deadline = project.deadline
    browser.login()
    browser.submit(
        f"/projects/{project.id}/edit",
        {
            "title": "New title",
            "goal": "1",
            "currency": "EUR",
            "duration_days": "60",
            "category_id": "1",
            "status": "funded",
            "pledged_amount": "999999",
            "owner_id": "99",
        },
    )
    db.session.refresh(project)
    assert project.title == "New title"
    assert (project.goal_amount, project.currency, project.duration_days) == (100_000, "USD", 30)
    assert (project.deadline, project.status.value, project.pledged_amount) == (deadline, "live", 0)
    assert project.owner_id == ada.id
