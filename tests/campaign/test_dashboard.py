"""The funding series kept as pledges move, the creator's dashboard and the public chart."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.campaign import series
from app.campaign.models import FundingHour
from app.extensions import db
from tests.helpers import Browser, gen_project, gen_user, project_path
from tests.helpers.pledging import new_backer, open_payment_of, pay_through_pages
from tests.helpers.settling import settle


def figure(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


def logged_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user.email)
    return browser


def run_campaign(app, project, stripe_fake, clock) -> None:
    """Bea pledges $25; two hours later Cy pledges $50 (tier 2) and Di $10; then Bea raises
    hers to $40 (a second payment) and Di cancels: $90 from two backers."""
    bea = new_backer(app, "bea@example.com", "Bea")
    bea_pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    clock.advance(hours=2)
    cy = new_backer(app, "cy@example.com", "Cyrus Backer")
    pay_through_pages(cy, stripe_fake, project, tier=project.tiers[1], amount="50")
    di = new_backer(app, "di@example.com", "Di")
    di_pledge, _ = pay_through_pages(di, stripe_fake, project, amount="10")
    bea.submit(
        f"/pledges/{bea_pledge.id}/change", {"tier_id": str(project.tiers[0].id), "amount": "40"}
    )
    stripe_fake.pay(open_payment_of(bea_pledge.id).stripe_payment_intent_id)
    bea.client.get(f"/pledges/{bea_pledge.id}/complete")
    assert di.submit(f"/pledges/{di_pledge.id}/cancel").status_code == 302
    db.session.expire_all()


def test_the_series_moves_with_every_held_changed_and_cancelled_pledge(
    app, project, stripe_fake, clock
):
    run_campaign(app, project, stripe_fake, clock)
    rows = db.session.execute(
        select(
            FundingHour.pledged,
            FundingHour.backers,
            FundingHour.new_pledges,
            FundingHour.changed,
            FundingHour.cancelled,
        )
        .where(FundingHour.project_id == project.id)
        .order_by(FundingHour.hour)
    ).all()
    # Hour one: Bea's $25. Hour three: Cy $50 + Di $10 + Bea's $15 more - Di's $10.
    assert [tuple(r) for r in rows] == [(2500, 1, 1, 0, 0), (6500, 1, 2, 1, 1)]
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (9000, 2)
    assert series.sums([project.id]) == {project.id: (9000, 2)}
    assert [(p.total, p.backers) for p in series.points(project.id, daily=False)] == [
        (2500, 1),
        (9000, 2),
    ]
    assert [(p.total, p.backers) for p in series.points(project.id, daily=True)][-1] == (9000, 2)


def test_the_creator_sees_the_campaign_on_the_dashboard(app, creator, project, stripe_fake, clock):
    run_campaign(app, project, stripe_fake, clock)
    owner = logged_in(app, creator)
    mine = owner.client.get("/my/projects").get_data(as_text=True)
    assert f'href="/projects/{project.id}/dashboard"' in mine
    response = owner.client.get(f"/projects/{project.id}/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert figure(html, "pledged") == "$90.00"
    assert figure(html, "percent") == "9%"
    assert figure(html, "backers") == "2"
    assert figure(html, "average") == "$45.00"
    assert figure(html, "changed") == "1"
    assert figure(html, "cancelled") == "1"
    tiers = re.findall(r'data-testid="tier-row">(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in tiers]
    assert [c[:3] for c in cells] == [["Tier 1", "1", "$40.00"], ["Tier 2", "1", "$50.00"]]
    # The chart, its text alternative and its table.
    assert f'src="/projects/{project.id}/funding.svg"' in html
    assert "Pledged so far: $90.00 of the $1,000.00 goal, from 2 backers" in html
    rows = re.findall(r"<tr><td>.*?</tr>", html, re.S)
    # A 30-day campaign is drawn by day: one row per day with pledges (the two hours fall on
    # two days when the test runs shortly before midnight).
    hours = db.session.scalars(select(FundingHour.hour).where(FundingHour.project_id == project.id))
    assert len(rows) == len({hour.date() for hour in hours}) in (1, 2)
    assert "$90.00" in rows[-1] and ">2<" in rows[-1]


def test_the_chart_is_public_and_names_nobody(app, project, stripe_fake, clock):
    run_campaign(app, project, stripe_fake, clock)
    anonymous = app.test_client()
    page = anonymous.get(project_path(project), follow_redirects=True).get_data(as_text=True)
    assert f'src="/projects/{project.id}/funding.svg"' in page
    assert "Chart of money pledged over time against the goal line and the deadline." in page
    response = anonymous.get(f"/projects/{project.id}/funding.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert "<script" not in svg
    for label in ("Pledged", "Goal", "Deadline", "$90.00"):
        assert label in svg
    for personal in ("Bea", "Cyrus", "bea@example.com"):
        assert personal not in svg
    # The picture may style itself, nothing else: no script, no outside resource.
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_after_the_deadline_the_chart_speaks_of_the_campaign_in_the_past(
    app, runner, project, stripe_fake, clock
):
    run_campaign(app, project, stripe_fake, clock)
    clock.jump_past(project.deadline)
    settle(runner)  # $90 of $1,000: it fails and every backer is refunded
    page = app.test_client().get(project_path(project), follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Pledged: $90.00 of the $1,000.00 goal, from 2 backers; the campaign ended" in html
    assert "the campaign ends" not in html


def test_no_dashboard_or_chart_before_launch(app, creator):
    draft = gen_project(creator, "approved")
    owner = logged_in(app, creator)
    response = owner.client.get(f"/projects/{draft.id}/dashboard")
    assert response.status_code == 404
    assert "start when the project launches" in response.get_data(as_text=True)
    assert app.test_client().get(f"/projects/{draft.id}/funding.svg").status_code == 404


def test_only_the_owner_and_staff_read_the_dashboard(app, project):
    other = logged_in(app, gen_user("other@example.com", "Other"))
    assert other.client.get(f"/projects/{project.id}/dashboard").status_code == 403
    moderator = logged_in(app, gen_user("mod@example.com", "Mod", role=Role.MODERATOR))
    html = moderator.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert figure(html, "pledged") == "$0.00"


@pytest.mark.postgres
def test_pledges_held_at_once_all_count_in_their_hour(app, project, test_config, instance_dir):
    """Eight processes adding to the same hour at once: the upsert loses none of it."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from app import clock, create_app

    project_id = project.id
    racing = create_app(
        {**test_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 8, "max_overflow": 0}},
        instance_path=instance_dir,
    )
    start = threading.Barrier(8, timeout=30)
    at = clock.now()

    def run(_: int) -> None:
        with racing.app_context():
            try:
                start.wait()
                for _ in range(20):
                    series.add(project_id, at, pledged=100, backers=1, new_pledges=1)
                    db.session.commit()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(run, range(8)))
    with racing.app_context():
        db.engine.dispose()
    assert series.sums([project_id]) == {project_id: (16_000, 160)}
