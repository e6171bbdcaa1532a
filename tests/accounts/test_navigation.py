"""A signed-in user's navigation (My pledges, My projects, Settings, Log out), and "You backed
this" on a project the viewer holds a pledge on (issue 13.9)."""

from __future__ import annotations

from tests.helpers import Browser, gen_project, gen_user, parse_forms
from tests.helpers.pledging import pay_through_pages, start

SIGNED_IN_LINKS = ('href="/my/pledges"', 'href="/my/projects"', 'href="/settings/profile"')


def test_a_signed_in_user_sees_their_pages_and_log_out_in_the_navigation(browser):
    gen_user()
    browser.login()
    page = browser.client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav") : page.index("</nav>")]
    for link in SIGNED_IN_LINKS:
        assert link in nav
    for name in ("My pledges", "My projects", "Settings", "Log out"):
        assert name in nav
    (logout,) = [f for f in parse_forms(nav) if f["action"] == "/logout"]
    assert logout["method"] == "post" and logout["fields"]["csrf_token"]


def test_a_visitor_sees_log_in_and_sign_up_instead(client):
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert not any(link in nav for link in SIGNED_IN_LINKS)
    assert 'href="/login"' in nav and 'href="/register"' in nav


def test_the_project_page_says_you_backed_this_with_a_link_to_the_pledge(app, stripe_fake):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "live")
    gen_user()
    gen_user("bob@example.com", "Bob")
    ada = Browser(app.test_client())
    ada.login()
    pledge, _ = pay_through_pages(ada, stripe_fake, project, amount="25")

    page = ada.client.get(f"/projects/{project.id}", follow_redirects=True).get_data(as_text=True)
    assert "You backed this" in page
    assert f'href="/pledges/{pledge.id}"' in page
    assert "See your pledge of $25.00" in page
    assert "Back this project" not in page

    bob = Browser(app.test_client())
    bob.login("bob@example.com")
    for viewer in (bob.client, app.test_client()):
        page = viewer.get(f"/projects/{project.id}", follow_redirects=True).get_data(as_text=True)
        assert "You backed this" not in page
        assert f"/pledges/{pledge.id}" not in page
        assert "Back this project" in page


def test_a_pledge_not_paid_yet_is_offered_to_finish(app, stripe_fake):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "live")
    gen_user()
    ada = Browser(app.test_client())
    ada.login()
    assert start(ada, project, amount="25").status_code == 302
    page = ada.client.get(f"/projects/{project.id}", follow_redirects=True).get_data(as_text=True)
    assert "You started a pledge to this project." in page
    assert "Finish or stop your payment" in page
    assert "You backed this" not in page
