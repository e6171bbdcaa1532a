"""Reporting a project and the moderators' decisions, through the real pages (issue 14.5)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.projects.models import Project, ProjectEvent, ProjectStatus
from app.reports.models import Report, ReportStatus
from tests.helpers import Browser, csrf_token, gen_project, gen_user, page_text


def signed_in(app, email: str, name: str, role: Role = Role.USER) -> Browser:
    gen_user(email, name, role=role)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


@pytest.fixture
def moderator(app):
    return signed_in(app, "mo@example.com", "Mo", Role.MODERATOR)


def report(browser, project, reason="fraud", details="The photos are someone else's."):
    url = f"/projects/{project.id}/report"
    return browser.submit(url, {"reason": reason, "details": details})


def reports() -> list[Report]:
    db.session.rollback()
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def test_a_report_reaches_the_moderators_queue(app, project, moderator):
    ann = signed_in(app, "ann@example.com", "Ann")
    assert "Report this project" in page_text(ann, f"/projects/{project.id}")
    assert report(ann, project).status_code == 302
    (made,) = reports()
    assert (made.reason.value, made.status) == ("fraud", ReportStatus.OPEN)
    assert made.target_id == project.id
    queue = page_text(moderator, "/moderation/reports")
    assert "Moon Lamp" in queue and "The photos are someone else&#39;s." in queue
    assert "1 open report" in page_text(moderator, "/moderation/")


def test_a_second_report_of_the_same_project_by_the_same_person_is_refused(app, project):
    ann = signed_in(app, "ann@example.com", "Ann")
    report(ann, project)
    report(ann, project, reason="spam")
    assert len(reports()) == 1
    assert "already reported this project" in page_text(ann, f"/projects/{project.id}")


def test_the_creator_cannot_report_their_own_project(app, creator, project):
    owner = Browser(app.test_client())
    owner.login(creator.email)
    assert "Report this project" not in page_text(owner, f"/projects/{project.id}")
    report(owner, project)
    assert reports() == []


def test_a_report_without_a_reason_says_why(app, project):
    ann = signed_in(app, "ann@example.com", "Ann")
    response = report(ann, project, reason=None)
    assert response.status_code == 200
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert reports() == []


def test_groups_oldest_first_and_dismissing_closes_the_group(app, creator, project, moderator):
    other = gen_project(creator, "live", title="Sun Lamp")
    ann = signed_in(app, "ann@example.com", "Ann")
    bo = signed_in(app, "bo@example.com", "Bo")
    report(ann, other)  # first
    report(ann, project)
    report(bo, other, reason="spam")
    queue = page_text(moderator, "/moderation/reports")
    assert queue.index("Sun Lamp") < queue.index("Moon Lamp")
    assert "2 reports, the first on" in queue
    response = moderator.submit(
        "/moderation/reports", {"note": "The photos are the creator's own."},
        action=f"/moderation/reports/projects/{other.id}/dismiss",
    )  # fmt: skip
    assert response.status_code == 302
    statuses = {(r.project_id, r.status) for r in reports()}
    assert statuses == {(other.id, ReportStatus.DISMISSED), (project.id, ReportStatus.OPEN)}
    logged = db.session.scalars(select(ProjectEvent).where(ProjectEvent.project_id == other.id))
    assert ("dismiss_reports", "The photos are the creator's own.") in {
        (e.action, e.reason) for e in logged
    }
    assert db.session.get(Project, other.id).status is ProjectStatus.LIVE


def test_suspending_from_the_queue_stops_the_project(app, project, moderator):
    ann = signed_in(app, "ann@example.com", "Ann")
    report(ann, project)
    response = moderator.client.post(
        f"/moderation/reports/projects/{project.id}/suspend",
        data={"note": "Confirmed: stolen photos.", "csrf_token": csrf_token(moderator)},
    )
    assert response.status_code == 302
    assert db.session.get(Project, project.id).status is ProjectStatus.SUSPENDED
    assert [r.status for r in reports()] == [ReportStatus.ACTED_ON]
    assert "No open reports." in page_text(moderator, "/moderation/reports")


def test_a_decision_needs_a_note(app, project, moderator):
    ann = signed_in(app, "ann@example.com", "Ann")
    report(ann, project)
    moderator.client.post(
        f"/moderation/reports/projects/{project.id}/dismiss",
        data={"note": "", "csrf_token": csrf_token(moderator)},
    )
    assert [r.status for r in reports()] == [ReportStatus.OPEN]
    assert "This field is required." in page_text(moderator, "/moderation/reports")


def test_reports_are_limited_per_account(app, creator, moderator):
    app.config["REPORT_LIMIT_PER_ACCOUNT"] = "2 per day"
    ann = signed_in(app, "ann@example.com", "Ann")
    projects = [gen_project(creator, "live", title=f"Lamp {n}") for n in range(3)]
    assert report(ann, projects[0]).status_code == 302
    assert report(ann, projects[1]).status_code == 302
    assert report(ann, projects[2]).status_code == 429
    assert len(reports()) == 2


def test_in_chinese(app, project):
    ann = signed_in(app, "ann@example.com", "Ann")
    ann.submit("/", {"locale": "zh_Hans_CN", "next": "/"}, action="/language")
    page = page_text(ann, f"/projects/{project.id}/report")
    assert "举报这个项目" in page and "欺诈" in page
