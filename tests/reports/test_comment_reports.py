"""Reporting a comment, and the moderators hiding it or dismissing the reports, through the
real pages (issue 14.5)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.comments import services as comments
from app.comments.models import Comment
from app.extensions import db
from app.projects.models import ProjectEvent
from app.reports.models import Report, ReportStatus
from tests.helpers import gen_user
from tests.helpers.comments import gen_backing, signed_in


@pytest.fixture
def bea(app, project):
    user = gen_user("bea@example.com", "Bea")
    gen_backing(project, user)
    return user


@pytest.fixture
def rude(bea, project) -> Comment:
    comment = comments.post(project, bea, "You are all fools")
    db.session.commit()
    return comment


@pytest.fixture
def moderator(app):
    return signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))


def report(browser, comment, reason="offensive", details="Insults."):
    return browser.submit(f"/comments/{comment.id}/report", {"reason": reason, "details": details})


def decide(moderator, comment, decision: str, note: str):
    """The queue's button (dismiss, or hide through its formaction), with the page's token."""
    page = text(moderator, "/moderation/reports")
    assert f"/moderation/reports/comments/{comment.id}/{decision}" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return moderator.client.post(
        f"/moderation/reports/comments/{comment.id}/{decision}",
        data={"csrf_token": token, "note": note},
    )


def reports() -> list[Report]:
    db.session.rollback()
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def text(browser, url: str) -> str:
    response = browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_reported_comment_reaches_the_queue_grouped_with_its_reports(
    app, project, rude, moderator
):
    ann = signed_in(app, gen_user("ann@example.com", "Ann"))
    assert f'href="/comments/{rude.id}/report"' in text(ann, f"/projects/{project.id}/comments")
    form = text(ann, f"/comments/{rude.id}/report")
    assert "You are all fools" in form
    assert 'value="fraud"' not in form  # a comment's reasons: not a project's
    assert report(ann, rude).status_code == 302
    ben = signed_in(app, gen_user("ben@example.com", "Ben"))
    report(ben, rude, reason="spam", details="")
    report(ben, rude)  # once per person while open
    made = reports()
    assert [(r.target_type, r.comment_id, r.project_id) for r in made] == [
        ("comment", rude.id, project.id)
    ] * 2
    queue = text(moderator, "/moderation/reports")
    assert queue.count('data-testid="report-group"') == 1
    assert "A comment by Bea on Moon Lamp" in queue and "2 reports, the first on" in queue
    assert "You are all fools" in queue


def test_hiding_from_the_queue_closes_the_reports_and_logs_it(app, project, rude, moderator):
    report(signed_in(app, gen_user("ann@example.com", "Ann")), rude)
    decide(moderator, rude, "hide", "Insults are against the rules.")
    (closed,) = reports()
    assert closed.status == ReportStatus.ACTED_ON and closed.outcome == "comment hidden"
    hidden = db.session.get(Comment, rude.id)
    assert hidden.hidden_reason == "Insults are against the rules."
    html = text(
        signed_in(app, gen_user("cy@example.com", "Cy")), f"/projects/{project.id}/comments"
    )
    assert "Hidden by a moderator." in html and "fools" not in html
    (logged,) = db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.action == "hide_comment")
    )
    assert logged.actor.email == "mo@example.com"
    assert "No open reports." in text(moderator, "/moderation/reports")


def test_dismissing_leaves_the_comment_and_logs_it(app, project, rude, moderator):
    report(signed_in(app, gen_user("ann@example.com", "Ann")), rude)
    decide(moderator, rude, "dismiss", "Rude, but allowed.")
    assert [r.status for r in reports()] == [ReportStatus.DISMISSED]
    assert db.session.get(Comment, rude.id).hidden_at is None
    actions = db.session.scalars(select(ProjectEvent.action)).all()
    assert "dismiss_comment_reports" in actions


def test_a_decision_needs_a_note_and_changes_nothing_without_one(app, rude, moderator):
    report(signed_in(app, gen_user("ann@example.com", "Ann")), rude)
    assert decide(moderator, rude, "hide", "").status_code == 302
    assert [r.status for r in reports()] == [ReportStatus.OPEN]
    assert db.session.get(Comment, rude.id).hidden_at is None


def test_the_author_cannot_report_their_own_comment(app, bea, rude):
    author = signed_in(app, bea)
    assert f'/comments/{rude.id}/report"' not in text(
        author, f"/projects/{rude.project_id}/comments"
    )
    report(author, rude)
    assert reports() == []


def test_a_hidden_comment_cannot_be_reported(app, creator, project, rude):
    comments.hide(rude, creator, comments.HiddenBy.CREATOR, "Off topic")
    db.session.commit()
    ann = signed_in(app, gen_user("ann@example.com", "Ann"))
    assert ann.client.get(f"/comments/{rude.id}/report").status_code == 302
    assert reports() == []
