"""Who may do what with a project: every route of the feature, for every kind of visitor.

``ACCESS`` below is the spec: for each route and each project state, what each of five
visitors gets. A project is drafted, submitted, approved or rejected in private (404 to all
but its owner, moderators and admins) and public from the moment it goes live. Only its
owner changes it; only moderators and admins moderate. Every refused request changes
nothing: not the project row, not its tiers, and no audit event is written. A cover image
follows its project: a draft's cover is not served to people who may not see the draft.

POSTs carry a real CSRF token, taken from the log in form of the visitor's own session,
so a refusal is always the access rule at work, never a missing token.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.projects import uploads
from app.projects.models import Project, ProjectEvent
from app.rewards.models import RewardTier
from tests.helpers import SharedTemplateCache, fast_password_hashing, gen_project, gen_user
from tests.security.conftest import log_in  # a token of the logged-in session

VISITORS = ("anonymous", "other", "owner", "moderator", "admin")
ROLES = {"other": Role.USER, "moderator": Role.MODERATOR, "admin": Role.ADMIN}

LOGIN = "login"  # 302 to the log in page; nothing else happens
DONE = "done"  # 302 after the action took effect
REFUSED = "refused"  # 302 with a message saying why; nothing changed
ANY = "any"  # a route that does not depend on the project's state

TITLE = "Secret Moon Lamp"  # must never show on a page the visitor may not see

# fmt: off
ACCESS: dict[str, dict[str, tuple]] = {
    #                   anonymous other    owner    moderator admin
    "GET /discover": {
        ANY:           (200,      200,     200,     200,      200),
    },
    "GET /my/projects": {
        ANY:           (LOGIN,    200,     200,     200,      200),
    },
    "GET /projects/new": {
        ANY:           (LOGIN,    200,     200,     200,      200),
    },
    "POST /projects/new": {
        ANY:           (LOGIN,    DONE,    DONE,    DONE,     DONE),
    },
    "GET /projects/{project}": {
        "draft":       (404,      404,     200,     200,      200),
        "submitted":   (404,      404,     200,     200,      200),
        "approved":    (404,      404,     200,     200,      200),
        "rejected":    (404,      404,     200,     200,      200),
        "live":        (200,      200,     200,     200,      200),
        "cancelled":   (200,      200,     200,     200,      200),
    },
    "GET /uploads/{cover}": {
        "draft":       (404,      404,     200,     200,      200),
        "submitted":   (404,      404,     200,     200,      200),
        "approved":    (404,      404,     200,     200,      200),
        "rejected":    (404,      404,     200,     200,      200),
        "live":        (200,      200,     200,     200,      200),
        "cancelled":   (200,      200,     200,     200,      200),
    },
    "GET /projects/{project}/edit": {
        "draft":       (LOGIN,    404,     200,     403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     200,     403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "POST /projects/{project}/edit": {
        "draft":       (LOGIN,    404,     DONE,    403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     DONE,    403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "POST /projects/{project}/submit": {
        "draft":       (LOGIN,    404,     DONE,    403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     REFUSED, 403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "POST /projects/{project}/launch": {
        "draft":       (LOGIN,    404,     REFUSED, 403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     DONE,    403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     REFUSED, 403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "GET /projects/{project}/cancel": {  # the confirmation page; posting it is what counts
        "draft":       (LOGIN,    404,     200,     403,      403),
        "submitted":   (LOGIN,    404,     200,     403,      403),
        "approved":    (LOGIN,    404,     200,     403,      403),
        "rejected":    (LOGIN,    404,     200,     403,      403),
        "live":        (LOGIN,    403,     200,     403,      403),
        "cancelled":   (LOGIN,    403,     200,     403,      403),
    },
    "POST /projects/{project}/cancel": {
        "draft":       (LOGIN,    404,     REFUSED, 403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     DONE,    403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "GET /projects/{project}/tiers/new": {
        "draft":       (LOGIN,    404,     200,     403,      403),
        "submitted":   (LOGIN,    404,     200,     403,      403),
        "approved":    (LOGIN,    404,     200,     403,      403),
        "rejected":    (LOGIN,    404,     200,     403,      403),
        "live":        (LOGIN,    403,     200,     403,      403),
        "cancelled":   (LOGIN,    403,     200,     403,      403),
    },
    "POST /projects/{project}/tiers/new": {
        "draft":       (LOGIN,    404,     DONE,    403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     DONE,    403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "GET /tiers/{tier}/edit": {
        "draft":       (LOGIN,    404,     200,     403,      403),
        "submitted":   (LOGIN,    404,     200,     403,      403),
        "approved":    (LOGIN,    404,     200,     403,      403),
        "rejected":    (LOGIN,    404,     200,     403,      403),
        "live":        (LOGIN,    403,     200,     403,      403),
        "cancelled":   (LOGIN,    403,     200,     403,      403),
    },
    "POST /tiers/{tier}/edit": {
        "draft":       (LOGIN,    404,     DONE,    403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     DONE,    403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "POST /tiers/{tier}/delete": {  # the project has two tiers, so a live one may lose one
        "draft":       (LOGIN,    404,     DONE,    403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     DONE,    403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "POST /tiers/{tier}/close": {
        "draft":       (LOGIN,    404,     DONE,    403,      403),
        "submitted":   (LOGIN,    404,     REFUSED, 403,      403),
        "approved":    (LOGIN,    404,     REFUSED, 403,      403),
        "rejected":    (LOGIN,    404,     REFUSED, 403,      403),
        "live":        (LOGIN,    403,     DONE,    403,      403),
        "cancelled":   (LOGIN,    403,     REFUSED, 403,      403),
    },
    "GET /moderation/": {
        ANY:           (LOGIN,    403,     403,     200,      200),
    },
    "GET /moderation/projects/{project}": {
        "draft":       (LOGIN,    403,     403,     200,      200),
        "submitted":   (LOGIN,    403,     403,     200,      200),
        "approved":    (LOGIN,    403,     403,     200,      200),
        "rejected":    (LOGIN,    403,     403,     200,      200),
        "live":        (LOGIN,    403,     403,     200,      200),
        "cancelled":   (LOGIN,    403,     403,     200,      200),
    },
    "POST /moderation/projects/{project}/approve": {
        "draft":       (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "submitted":   (LOGIN,    403,     403,     DONE,     DONE),
        "approved":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "rejected":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "live":        (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "cancelled":   (LOGIN,    403,     403,     REFUSED,  REFUSED),
    },
    "POST /moderation/projects/{project}/request-changes": {
        "draft":       (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "submitted":   (LOGIN,    403,     403,     DONE,     DONE),
        "approved":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "rejected":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "live":        (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "cancelled":   (LOGIN,    403,     403,     REFUSED,  REFUSED),
    },
    "POST /moderation/projects/{project}/reject": {
        "draft":       (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "submitted":   (LOGIN,    403,     403,     DONE,     DONE),
        "approved":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "rejected":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "live":        (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "cancelled":   (LOGIN,    403,     403,     REFUSED,  REFUSED),
    },
    "POST /moderation/projects/{project}/suspend": {
        "draft":       (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "submitted":   (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "approved":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "rejected":    (LOGIN,    403,     403,     REFUSED,  REFUSED),
        "live":        (LOGIN,    403,     403,     DONE,     DONE),
        "cancelled":   (LOGIN,    403,     403,     REFUSED,  REFUSED),
    },
}
# fmt: on

# What each POST sends besides the CSRF token: a complete, valid form, so that a refusal is
# the access rule at work and never a validation error.
DRAFT_FORM = {
    "title": "Changed by the visitor",
    "blurb": "New words.",
    "story": "A new story. " * 10,
    "category_id": "4",
    "currency": "EUR",
    "goal": "999",
    "duration_days": "20",
    "creator_timezone": "UTC",
}
TIER_FORM = {"title": "Changed tier", "minimum": "5", "estimated_delivery": "2031-05"}
POST_DATA = {
    "/projects/new": DRAFT_FORM,
    "/projects/{project}/edit": DRAFT_FORM,
    "/projects/{project}/cancel": {"reason": "Changed my mind."},
    "/projects/{project}/tiers/new": TIER_FORM,
    "/tiers/{tier}/edit": TIER_FORM,
    "/moderation/projects/{project}/approve": {"approve-reason": "Looks good."},
    "/moderation/projects/{project}/request-changes": {"changes-reason": "Add photos."},
    "/moderation/projects/{project}/reject": {"reject-reason": "Not a fit."},
    "/moderation/projects/{project}/suspend": {"suspend-reason": "Breaks the rules."},
}

CASES = [
    pytest.param(route, state, visitor, expected, id=f"{route} | {state} | {visitor}")
    for route, by_state in ACCESS.items()
    for state, outcomes in by_state.items()
    for visitor, expected in zip(VISITORS, outcomes, strict=True)
]


# ---- helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """Hundreds of accounts are made here: a cheap hash keeps the table fast (log in is real)."""
    fast_password_hashing(monkeypatch)


@pytest.fixture(autouse=True)
def _compile_templates_once(app):
    """Every test builds a fresh app; without this, each one recompiles every template."""
    app.jinja_env.bytecode_cache = SharedTemplateCache()


@dataclass
class World:
    project: Project
    tier: RewardTier
    users: dict


def make_world(state: str, visitor: str) -> World:
    """The owner's project (two tiers, a real cover file) and, if needed, the visitor."""
    owner = gen_user("owner@example.com", "Owner")
    users = {"owner": owner}
    if visitor in ROLES:
        users[visitor] = gen_user(f"{visitor}@example.com", visitor.title(), role=ROLES[visitor])
    project = gen_project(owner, "draft" if state == ANY else state, title=TITLE, tiers=2)
    project.cover_image = uploads.save_cover(png_bytes())
    db.session.commit()
    return World(project, project.tiers[0], users)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), (40, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    """Every row a request of this feature could change."""
    tables = (Project.__table__, RewardTier.__table__, ProjectEvent.__table__)
    return {
        t.name: [tuple(row) for row in db.session.execute(select(t).order_by(t.c.id))]
        for t in tables
    }


def flashed(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


# ---- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "state", "visitor", "expected"), CASES)
def test_access(client, route, state, visitor, expected):
    world = make_world(state, visitor)
    token = log_in(client, visitor)
    method, path = route.split(" ")
    url = path.format(project=world.project.id, tier=world.tier.id, cover=world.project.cover_image)
    with client.session_transaction() as session:
        session.pop("_flashes", None)  # only this request's messages are left to look at
    before = snapshot()

    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token, **POST_DATA.get(path, {})})

    after = snapshot()
    body = response.get_data().decode("utf-8", "replace")
    response.close()  # a sent file stays open until closed
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        assert response.status_code == 302
        assert urlsplit(location).path == "/login" and "next=" in location
    elif expected in (DONE, REFUSED):
        assert response.status_code == 302, body[:500]
        assert urlsplit(location).path != "/login"
    else:
        assert response.status_code == expected, body[:500]

    if expected == DONE:
        assert after != before, "the action answered as done but changed nothing"
    else:
        assert after == before, "a refused or read-only request changed the database"
    if expected == REFUSED:  # the user is told why
        assert any(category in ("danger", "warning") for category, _ in flashed(client))
    if expected in (LOGIN, 403, 404):
        assert TITLE not in body


# ---- focused cases ------------------------------------------------------------------------


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
            (f"/projects/{project.id}/edit", DRAFT_FORM),
            (f"/projects/{project.id}/submit", {}),
            (f"/projects/{project.id}/launch", {}),
            (f"/projects/{project.id}/cancel", {"reason": "Mine now."}),
            (f"/projects/{project.id}/tiers/new", TIER_FORM),
            (f"/tiers/{tier.id}/edit", TIER_FORM),
            (f"/tiers/{tier.id}/close", {}),
            (f"/tiers/{tier.id}/delete", {}),
        ):
            assert client.post(url, data={"csrf_token": token, **data}).status_code == code, url
        assert snapshot() == before
    page = client.get(f"/projects/{hidden.id}")
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
    response = client.post(
        f"/projects/{mine.id}/edit", data={"csrf_token": token, **DRAFT_FORM, **sneaky}
    )
    assert response.status_code == 302
    response = client.post(
        f"/tiers/{mine.tiers[0].id}/edit", data={"csrf_token": token, **TIER_FORM, **sneaky}
    )
    assert response.status_code == 302
    response = client.post(
        f"/projects/{mine.id}/tiers/new", data={"csrf_token": token, **TIER_FORM, **sneaky}
    )
    assert response.status_code == 302

    db.session.refresh(mine)
    assert mine.title == DRAFT_FORM["title"]  # the real fields were saved...
    assert (mine.owner_id, mine.status.value, mine.deadline) == (ada.id, "draft", None)
    assert (mine.pledged_amount, mine.backer_count) == (0, 0)  # ...and nothing else
    assert [t.claimed for t in mine.tiers] == [0, 0]
    assert len(mine.tiers) == 2
    assert len(theirs.tiers) == 1


@pytest.mark.parametrize("visitor", ["owner", "moderator", "admin"])
def test_unknown_ids_are_404_even_for_moderators(client, visitor):
    make_world("draft", visitor)
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


@pytest.mark.parametrize("route", [route for route in ACCESS if route.startswith("POST")])
def test_a_post_without_csrf_token_is_refused_even_for_the_owner(client, route):
    world = make_world("live", "owner")
    log_in(client, "owner")
    path = route.split(" ")[1].format(project=world.project.id, tier=world.tier.id)
    before = snapshot()
    response = client.post(path, data=POST_DATA.get(route.split(" ")[1], {}))
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("visitor", ["anonymous", "other"])
def test_hidden_projects_are_listed_nowhere(client, visitor):
    world = make_world("draft", visitor)
    owner = world.users["owner"]
    for state in ("submitted", "approved", "rejected"):
        gen_project(owner, state, title=f"{TITLE} {state}")
    gen_project(owner, "live", title="Public Sun Lamp")
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
    world = make_world("draft", "owner")
    log_in(client, "owner")
    response = client.get(f"/uploads/{world.project.cover_image}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.cache_control.private and not response.cache_control.public
    response.close()
