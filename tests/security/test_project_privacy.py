"""A project's ids in the URL, beyond the access table: another user's ids, unknown ids,
fields no form shows, a POST without its token, listings, and the cover files.

A project is private (404 to all but its owner, moderators and admins) until it goes live;
only its owner changes it. The access table (tests/security/test_access.py) checks every
route in every state; these are the stories around it.
"""

from __future__ import annotations

import pytest

from app.accounts.models import Role
from app.extensions import db
from app.projects import uploads
from tests.helpers import (
    SharedTemplateCache,
    fast_password_hashing,
    gen_project,
    gen_user,
    project_path,
)
from tests.helpers.forms import draft_form, tier_form
from tests.helpers.images import png_bytes
from tests.helpers.rows import snapshot
from tests.helpers.world import log_in

ROLES = {"other": Role.USER, "moderator": Role.MODERATOR, "admin": Role.ADMIN}
TITLE = "Secret Moon Lamp"  # must never show on a page the visitor may not see

# The project routes that take a POST, with the form each sends besides the token.
PROJECT_POSTS = {
    "/projects/new": draft_form,
    "/projects/{project}/edit": draft_form,
    "/projects/{project}/submit": None,
    "/projects/{project}/launch": None,
    "/projects/{project}/cancel": lambda: {"reason": "Changed my mind."},
    "/projects/{project}/tiers/new": tier_form,
    "/tiers/{tier}/edit": tier_form,
    "/tiers/{tier}/delete": None,
    "/tiers/{tier}/close": None,
    "/moderation/projects/{project}/approve": lambda: {"approve-reason": "Looks good."},
    "/moderation/projects/{project}/request-changes": lambda: {"changes-reason": "Add photos."},
    "/moderation/projects/{project}/reject": lambda: {"reject-reason": "Not a fit."},
    "/moderation/projects/{project}/suspend": lambda: {"suspend-reason": "Breaks the rules."},
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    fast_password_hashing(monkeypatch)


@pytest.fixture(autouse=True)
def _compile_templates_once(app):
    app.jinja_env.bytecode_cache = SharedTemplateCache()


def owners_project(state: str, visitor: str):
    """The owner's project (two tiers, a real cover file) and, if needed, the visitor."""
    owner = gen_user("owner@example.com", "Owner")
    if visitor in ROLES:
        gen_user(f"{visitor}@example.com", visitor.title(), role=ROLES[visitor])
    project = gen_project(owner, state, title=TITLE, tiers=2)
    project.cover_image = uploads.save_cover(png_bytes())
    db.session.commit()
    return project


def test_another_users_ids_in_the_url_never_reveal_or_change_their_project(client):
    """Ada, logged in, puts Bob's project and tier ids in every URL she can use on her own."""
    ada = gen_user("ada@example.com", "Ada")
    bob = gen_user("bob@example.com", "Bob")
    gen_project(ada, "draft", title="Ada's lamp")
    hidden = gen_project(bob, "draft", title="Hidden Bob Lamp", tiers=2)
    public = gen_project(bob, "live", title="Public Bob Lamp", tiers=2)
    token = log_in(client, "ada")

    for project, code in ((hidden, 404), (public, 403)):
        tier = project.tiers[0]
        before = snapshot()
        for url in (
            f"/projects/{project.id}/edit",
            f"/projects/{project.id}/cancel",
            f"/projects/{project.id}/tiers/new",
            f"/tiers/{tier.id}/edit",
        ):
            page = client.get(url)
            assert page.status_code == code, url
            assert project.title not in page.get_data(as_text=True)
        for url, data in (
            (f"/projects/{project.id}/edit", draft_form()),
            (f"/projects/{project.id}/submit", {}),
            (f"/projects/{project.id}/launch", {}),
            (f"/projects/{project.id}/cancel", {"reason": "Mine now."}),
            (f"/projects/{project.id}/tiers/new", tier_form()),
            (f"/tiers/{tier.id}/edit", tier_form()),
            (f"/tiers/{tier.id}/close", {}),
            (f"/tiers/{tier.id}/delete", {}),
        ):
            assert client.post(url, data={"csrf_token": token, **data}).status_code == code, url
        assert snapshot() == before
    page = client.get(project_path(hidden))
    assert page.status_code == 404 and hidden.title not in page.get_data(as_text=True)


def test_posted_fields_the_form_does_not_show_are_ignored(client):
    """No mass assignment: owner, state, money totals and a tier's project stay as they were."""
    ada = gen_user("ada@example.com", "Ada")
    bob = gen_user("bob@example.com", "Bob")
    mine = gen_project(ada, "draft", title="Ada's lamp")
    theirs = gen_project(bob, "draft", title="Bob's lamp")
    token = log_in(client, "ada")
    sneaky = {
        "owner_id": str(bob.id),
        "status": "live",
        "pledged_amount": "999999",
        "backer_count": "42",
        "project_id": str(theirs.id),
        "claimed": "7",
        "deadline": "2030-01-01T00:00:00",
    }
    form = draft_form()
    response = client.post(
        f"/projects/{mine.id}/edit", data={"csrf_token": token, **form, **sneaky}
    )
    assert response.status_code == 302
    response = client.post(
        f"/tiers/{mine.tiers[0].id}/edit", data={"csrf_token": token, **tier_form(), **sneaky}
    )
    assert response.status_code == 302
    response = client.post(
        f"/projects/{mine.id}/tiers/new", data={"csrf_token": token, **tier_form(), **sneaky}
    )
    assert response.status_code == 302

    db.session.refresh(mine)
    assert mine.title == form["title"]  # the real fields were saved...
    assert (mine.owner_id, mine.status.value, mine.deadline) == (ada.id, "draft", None)
    assert (mine.pledged_amount, mine.backer_count) == (0, 0)  # ...and nothing else
    assert [t.claimed for t in mine.tiers] == [0, 0]
    assert len(mine.tiers) == 2
    assert len(theirs.tiers) == 1


@pytest.mark.parametrize("visitor", ["owner", "moderator", "admin"])
def test_unknown_ids_are_404_even_for_moderators(client, visitor):
    owners_project("draft", visitor)
    token = log_in(client, visitor)
    before = snapshot()
    for url in ("/projects/999999", "/tiers/999999/edit", "/projects/999999/edit"):
        assert client.get(url).status_code == 404, url
    for url in ("/projects/999999/submit", "/tiers/999999/delete", "/projects/999999/tiers/new"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    if visitor != "owner":
        assert client.get("/moderation/projects/999999").status_code == 404
        response = client.post("/moderation/projects/999999/approve", data={"csrf_token": token})
        assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("path", PROJECT_POSTS)
def test_a_post_without_csrf_token_is_refused_even_for_the_owner(client, path):
    project = owners_project("live", "owner")
    log_in(client, "owner")
    url = path.format(project=project.id, tier=project.tiers[0].id)
    form = PROJECT_POSTS[path]
    before = snapshot()
    response = client.post(url, data=form() if form else {})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("visitor", ["anonymous", "other"])
def test_hidden_projects_are_listed_nowhere(client, visitor):
    project = owners_project("draft", visitor)
    for state in ("submitted", "approved", "rejected"):
        gen_project(project.owner, state, title=f"{TITLE} {state}")
    gen_project(project.owner, "live", title="Public Sun Lamp")
    log_in(client, visitor)
    pages = ["/", "/discover", "/discover?q=Lamp", "/discover?q=Secret&sort=ending"]
    if visitor != "anonymous":
        pages.append("/my/projects")
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        assert TITLE not in page, url
    assert "Public Sun Lamp" in client.get("/discover?q=Lamp").get_data(as_text=True)


@pytest.mark.parametrize(
    "name",
    [
        "secret_key",
        "..%2Fsecret_key",
        "%2e%2e%2fsecret_key",
        "0123456789abcdef0123456789abcdef.svg",
        "0123456789ABCDEF0123456789ABCDEF.png",
        "0123456789abcdef0123456789abcdef.png",  # well formed, but no project has it
    ],
)
def test_upload_names_outside_the_store_are_404(client, name):
    assert client.get(f"/uploads/{name}").status_code == 404


def test_a_draft_cover_is_private_and_not_cached_by_shared_caches(client):
    project = owners_project("draft", "owner")
    log_in(client, "owner")
    response = client.get(f"/uploads/{project.cover_image}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.cache_control.private and not response.cache_control.public
    response.close()
