"""A creator's public profile, /people/<id>-<slug> (issue 13.4): what it shows, what it never
shows, its readable URL, the badge, and the links to it from every creator name."""

from __future__ import annotations

import re

from app.accounts.models import User
from app.extensions import db
from app.people.services import slug_of_person
from app.projects.domain import ProjectStatus
from tests.helpers import Browser, gen_project, gen_user
from tests.helpers.notifications import gen_held_pledges
from tests.helpers.pledging import pay_through_pages
from tests.helpers.settling import ready_account


def profile_of(client, user) -> str:
    response = client.get(f"/people/{user.id}-{slug_of_person(user)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def main(page: str) -> str:
    return page.split("<main", 1)[1]


def test_the_profile_shows_public_projects_by_outcome_and_never_private_ones(app, creator):
    creator.bio = "I make lamps.\n<script>alert(1)</script>"
    creator.location = "Lyon"
    creator.website = "https://cora.example.org"
    db.session.commit()
    gen_project(creator, "live", title="Live Lamp")
    gen_project(creator, "cancelled", title="Cancelled Clock")
    funded = gen_project(creator, "live", title="Funded Fan")
    funded.status = ProjectStatus.FUNDED  # as settlement leaves it
    db.session.commit()
    for status in ("draft", "submitted", "approved", "rejected"):
        gen_project(creator, status, title=f"Secret {status}")
    page = main(profile_of(app.test_client(), creator))
    assert "Cora" in page
    assert "Lyon" in page
    assert "I make lamps." in page and "<script>alert(1)" not in page
    assert re.search(r'<a href="https://cora.example.org" rel="nofollow ugc noopener"', page)
    assert "Joined" in page
    live = page.split('data-testid="projects-live"')[1].split("</ul>")[0]
    assert "Live Lamp" in live
    assert "Funded Fan" in page.split('data-testid="projects-funded"')[1].split("</ul>")[0]
    not_funded = page.split('data-testid="projects-not-funded"')[1].split("</ul>")[0]
    assert "Cancelled Clock" in not_funded
    assert "Secret" not in page
    assert "creator@example.com" not in page
    assert 'data-testid="payouts-verified"' not in page


def test_projects_backed_is_a_count_only(app, creator, backer, stripe_fake):
    one = gen_project(creator, "live", title="Kite")
    two = gen_project(creator, "live", title="Drum")
    pay_through_pages(backer, stripe_fake, one, amount="25")
    pay_through_pages(backer, stripe_fake, two, amount="25")
    bea = db.session.query(User).filter_by(email="bea@example.com").one()
    page = main(profile_of(app.test_client(), bea))
    assert "Backed 2 projects" in page
    assert "Kite" not in page and "Drum" not in page  # which ones is the backer's business


def test_a_wrong_or_old_slug_is_sent_on_to_the_right_one(app, creator):
    client = app.test_client()
    for path in (f"/people/{creator.id}", f"/people/{creator.id}-someone-else"):
        response = client.get(path + "?from=mail")
        assert response.status_code == 301
        assert response.headers["Location"] == f"/people/{creator.id}-cora?from=mail"
    creator.display_name = "Cora Renamed"
    db.session.commit()
    response = client.get(f"/people/{creator.id}-cora")
    assert response.headers["Location"] == f"/people/{creator.id}-cora-renamed"
    assert client.get("/people/99999-nobody").status_code == 404


def test_the_badge_shows_once_stripe_onboarding_is_complete(app, creator, stripe_fake):
    client = app.test_client()
    ready_account(creator, stripe_fake, complete=False)
    assert 'data-testid="payouts-verified"' not in profile_of(client, creator)
    db.session.expire_all()
    other = gen_user("dora@example.com", "Dora")
    ready_account(other, stripe_fake)
    assert "Payouts verified" in profile_of(client, other)


def test_a_disabled_or_deleted_account_has_no_profile(app, creator):
    from app.accounts import sessions

    gen_project(creator, "live", title="Live Lamp")
    client = app.test_client()
    sessions.disable(creator)
    db.session.commit()
    assert client.get(f"/people/{creator.id}-cora").status_code == 404
    page = client.get("/discover").get_data(as_text=True)
    assert f"/people/{creator.id}" not in page  # the name is shown, not linked


def test_creator_names_link_to_the_profile_from_project_pages_and_cards(app, creator):
    project = gen_project(creator, "live", title="Live Lamp")
    gen_held_pledges(project, 1)
    client = app.test_client()
    link = f'href="/people/{creator.id}-cora"'
    for path in (f"/projects/{project.id}-live-lamp", "/discover", "/"):
        page = client.get(path).get_data(as_text=True)
        assert link in page, path
    browser = Browser(app.test_client())
    gen_user()
    browser.login()
    browser.submit(f"/projects/{project.id}-live-lamp", action=f"/projects/{project.id}/follow")
    page = browser.client.get("/my/saved").get_data(as_text=True)
    assert link in page
