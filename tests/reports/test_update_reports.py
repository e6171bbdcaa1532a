"""Reporting an update, and the moderators removing it or dismissing the reports, through the
real pages (issue 14.5): the update page's link, the queue's group, the reporter's mail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.projects.models import ProjectEvent
from app.reports.models import Report, ReportStatus
from app.updates import services as updates
from app.updates.models import Update
from tests.helpers import gen_user
from tests.helpers.comments import gen_backing, signed_in
from tests.helpers.notifications import outbox


@pytest.fixture
def news(project) -> Update:
    update = updates.publish(project, project.owner_id, "Buy my other lamp", "Cheap **now**.", True)
    db.session.commit()
    return update


@pytest.fixture
def moderator(app):
    return signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))


def url_of(update) -> str:
    return f"/projects/{update.project_id}/updates/{update.number}"


def report(browser, update, reason="spam", details="An advert."):
    return browser.submit(f"{url_of(update)}/report", {"reason": reason, "details": details})


def decide(moderator, update, decision: str, note: str):
    """The queue's button (dismiss, or remove through its formaction), with the page's token."""
    page = text(moderator, "/moderation/reports")
    assert f"/moderation/reports/updates/{update.id}/{decision}" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return moderator.client.post(
        f"/moderation/reports/updates/{update.id}/{decision}",
        data={"csrf_token": token, "note": note},
    )


def reports() -> list[Report]:
    db.session.rollback()
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def text(browser, url: str) -> str:
    response = browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_reported_update_reaches_the_queue_grouped_with_its_reports(
    app, creator, project, news, moderator
):
    ann = signed_in(app, gen_user("ann@example.com", "Ann"))
    assert f'href="{url_of(news)}/report"' in text(ann, url_of(news))
    assert "/report" not in text(signed_in(app, creator), url_of(news))  # not one's own
    form = text(ann, f"{url_of(news)}/report")
    assert "Buy my other lamp" in form and 'value="fraud"' not in form
    assert report(ann, news).status_code == 302
    ben = signed_in(app, gen_user("ben@example.com", "Ben"))
    report(ben, news, reason="offensive", details="")
    report(ben, news)  # once per person while open
    made = reports()
    assert [(r.target_type, r.update_id, r.target_id) for r in made] == [
        ("update", news.id, news.id)
    ] * 2
    queue = text(moderator, "/moderation/reports")
    assert queue.count('data-testid="report-group"') == 1
    assert "Update #1 of Moon Lamp" in queue and "2 reports, the first on" in queue
    assert "<strong>now</strong>" in queue  # the update as its readers see it


def test_removing_from_the_queue_closes_the_reports_logs_it_and_tells_the_reporter(
    app, project, news, moderator
):
    report(signed_in(app, gen_user("ann@example.com", "Ann")), news)
    decide(moderator, news, "remove", "Advertising another project.")
    (closed,) = reports()
    assert closed.status == ReportStatus.ACTED_ON and closed.outcome == "update removed"
    removed = db.session.get(Update, news.id)
    assert removed.is_deleted and removed.delete_reason == "Advertising another project."
    html = text(signed_in(app, gen_user("cy@example.com", "Cy")), url_of(news))
    assert "A moderator removed Update #1" in html and "Cheap" not in html
    assert "Reason given" not in html and "Advertising another" not in html
    assert "Advertising another project." in text(moderator, url_of(news))
    (logged,) = db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.action == "remove_update")
    )
    assert logged.actor.email == "mo@example.com"
    (mail,) = outbox("report_decided_reporter")
    assert mail.data == {"outcome": "acted_on", "target": "update"}
    assert "No open reports." in text(moderator, "/moderation/reports")


def test_dismissing_leaves_the_update_and_logs_it(app, project, news, moderator):
    report(signed_in(app, gen_user("ann@example.com", "Ann")), news)
    decide(moderator, news, "dismiss", "Allowed.")
    assert [r.status for r in reports()] == [ReportStatus.DISMISSED]
    assert not db.session.get(Update, news.id).is_deleted
    actions = db.session.scalars(select(ProjectEvent.action)).all()
    assert "dismiss_update_reports" in actions


def test_a_backers_only_update_is_reported_only_by_its_readers(app, creator, project):
    secret = updates.publish(project, creator.id, "Backers' news", "Only for you.", False)
    db.session.commit()
    otto = signed_in(app, gen_user("otto@example.com", "Otto"))
    assert "/report" not in text(otto, url_of(secret))
    assert otto.client.get(f"{url_of(secret)}/report").status_code == 404
    bea = gen_user("bea@example.com", "Bea")
    gen_backing(project, bea)
    assert report(signed_in(app, bea), secret).status_code == 302
    assert [r.update_id for r in reports()] == [secret.id]
