"""`flask demo seed`: a local site that looks alive, reached through the real services."""

import re
from collections import Counter
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app import clock
from app.accounts.models import Role, User
from app.extensions import db
from app.projects.domain import ProjectStatus
from app.projects.models import Project, ProjectEvent
from app.rewards.models import RewardTier
from tests.helpers import Browser


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result


def live_projects() -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.status == ProjectStatus.LIVE)))


def row_counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Project, RewardTier, ProjectEvent)
    }


def printed_logins(output: str) -> tuple[list[str], str]:
    password = re.search(r"password for all: (\S+)\)", output).group(1)
    return re.findall(r"\S+@demo\.test", output), password


def test_seed_creates_accounts_of_each_role_and_prints_the_logins(seeded):
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles == {Role.USER: 5, Role.MODERATOR: 2, Role.ADMIN: 1}
    emails, password = printed_logins(seeded.output)
    assert set(emails) == set(db.session.scalars(select(User.email)))
    assert "creator1@demo.test" in emails
    assert len(password) >= 10


def test_live_projects_are_varied_complete_and_open(app, seeded):
    projects = live_projects()
    assert len(projects) >= 8
    assert len({p.category_id for p in projects}) >= 6
    assert len({p.currency for p in projects}) >= 4
    now = clock.now()
    uploads = Path(app.instance_path) / "uploads"
    for project in projects:
        assert project.tiers, project.title
        assert project.cover_image and (uploads / project.cover_image).is_file()
        assert project.deadline > now
        assert len(project.story) >= 100 and "## " in project.story
    assert len({p.cover_image for p in projects}) == len(projects)
    hours_left = sorted((p.deadline - now).total_seconds() / 3600 for p in projects)
    assert hours_left[0] < 24 and hours_left[-1] > 40 * 24


def test_pledged_totals_are_consistent_and_tiers_believable(seeded):
    projects = live_projects()
    today = clock.now().date()
    for project in projects:
        tiers = project.tiers
        assert project.backer_count == sum(t.claimed for t in tiers)
        assert project.pledged_amount >= sum(t.claimed * t.minimum_amount for t in tiers)
        assert 2 <= len(tiers) <= 4
        for tier in tiers:
            assert tier.quantity_limit is None or tier.claimed <= tier.quantity_limit
            assert tier.estimated_delivery.day == 1 and tier.estimated_delivery > today
    tiers = [t for p in projects for t in p.tiers]
    assert any(t.remaining is not None and 1 <= t.remaining <= 3 for t in tiers)
    assert any(t.sold_out for t in tiers)
    assert any(t.ships for t in tiers) and any(not t.ships for t in tiers)
    assert sum(p.pledged_amount >= p.goal_amount for p in projects) >= 2
    assert any(p.pledged_amount < p.goal_amount for p in projects)


def test_projects_went_through_review_in_order(seeded):
    statuses = Counter(db.session.scalars(select(Project.status)))
    assert statuses[ProjectStatus.SUBMITTED] == 1
    assert statuses[ProjectStatus.APPROVED] == 1
    assert statuses[ProjectStatus.DRAFT] == 1
    now = clock.now()
    for project in live_projects():
        actions = [e.action for e in project.events]
        assert actions == ["submit", "approve", "launch"]
        times = [project.created_at] + [e.created_at for e in project.events]
        assert times == sorted(times) and times[-1] == project.launched_at <= now
        assert project.events[1].actor.is_moderator


def test_the_site_shows_the_demo_projects(seeded, client):
    discover = client.get("/discover").get_data(as_text=True)
    for project in live_projects():
        assert str(escape(project.title)) in discover
    assert "Ending soon" in client.get("/").get_data(as_text=True)
    project = live_projects()[0]
    page = client.get(f"/projects/{project.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h2>" in html and "<strong>" in html and "<li>" in html
    with client.get(f"/uploads/{project.cover_image}") as cover:
        assert cover.status_code == 200 and cover.mimetype == "image/png"


def test_a_printed_demo_account_can_log_in(seeded, client):
    emails, password = printed_logins(seeded.output)
    browser = Browser(client)
    response = browser.login("moderator1@demo.test", password)
    assert response.status_code == 302
    queue = client.get("/moderation/")
    assert queue.status_code == 200
    submitted = db.session.scalar(select(Project).where(Project.status == ProjectStatus.SUBMITTED))
    assert str(escape(submitted.title)) in queue.get_data(as_text=True)
    browser.logout()
    assert browser.login(emails[0], password).status_code == 302
    assert "Maren Holt" in client.get("/").get_data(as_text=True)


def test_running_twice_changes_nothing(seeded, runner):
    before = row_counts()
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "Demo data already present" in again.output
    assert row_counts() == before
