"""The security tests' world: a live project with a held pledge, seen by five visitors.

``build_world`` makes, through the real services and pages (the pledge is paid at the fake
Stripe like a browser would), everything a URL of the site can point at, and logs in one
test client per visitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.accounts.models import Role
from app.extensions import db
from app.people.services import slug_of_person
from app.pledges.models import Pledge
from app.projects import uploads
from tests.helpers import Browser, gen_project, gen_user, parse_forms
from tests.helpers.images import png_bytes
from tests.helpers.pledging import pay_through_pages
from tests.helpers.settling import ready_account

VISITORS = ("anonymous", "backer", "owner", "moderator", "admin")
ROLES = {"backer": Role.USER, "owner": Role.USER, "moderator": Role.MODERATOR, "admin": Role.ADMIN}
TITLE = "Guarded Moon Lamp"

# Tests that start and stop many pledges as one backer lift the limits on that (they have
# their own tests, tests/pledges/test_abuse.py).
NO_PLEDGE_START_LIMITS = {
    "PLEDGE_START_LIMIT_PER_ACCOUNT": "100000 per hour",
    "PLEDGE_START_LIMIT_PER_IP": "100000 per hour",
    "ABANDONED_BEFORE_SLOWDOWN": 0,
}


@dataclass
class World:
    """Ids of what the URLs point at, and one logged-in client (with its CSRF token) a visitor."""

    project_id: int  # live, owned by "owner", two tiers, a real cover file
    backed_tier_id: int  # the tier of the backer's pledge
    tier_id: int  # the other tier: no backers, so its owner may edit, close or delete it
    pledge_id: int  # the backer's held pledge
    payment_intent_id: str  # its PaymentIntent at the fake Stripe
    cover: str  # the live project's cover file name
    ended_project_id: int  # the owner's cancelled project: it has a statement
    user_ids: dict[str, int]
    unsubscribe_token: str = ""  # the owner's link to turn the new-backer digest off
    owner_session_id: int = 0  # the owner's signed-in session (settings: end a session)
    clients: dict = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    faq_entry_id: int = 0  # an entry of the project's FAQ
    question_id: int = 0  # a question the backer asked its creator, not yet answered
    comment_id: int = 0  # a comment the backer wrote on the project, reported by its owner
    revision_id: int = 0  # a change to the project's title, which a moderator may revert
    slug: str = ""  # the project's readable URL part (/projects/<id>-<slug>)
    person_id: int = 0  # the owner's public profile (/people/<id>-<slug>)
    person_slug: str = ""
    update_number: int = 0  # the project's backers-only Update #1, with an image
    update_image: str = ""
    update_id: int = 0  # that update's id (reported by the owner, as a row)
    referral_tag_id: int = 0  # the project's ?ref= tag "launch-video" (access table only)
    stretch_goal_id: int = 0  # a stretch goal of the project at $3,000, not reached
    addon_id: int = 0  # an add-on of the project at $12 nobody has chosen
    # Working mailed links: a newcomer's (unverified) sign-up link; the owner's reset link,
    # link to move to a new address, and undo link of a change from an old one.
    verify_token: str = ""
    reset_token: str = ""
    email_change_token: str = ""
    undo_token: str = ""


def owner_unsubscribe_token(app, user_id: int) -> str:
    """The signed link a digest would carry for ``user_id`` (turns that digest off)."""
    from app.notifications import preferences

    with app.test_request_context():
        return preferences.token_for(user_id, preferences.Topic.NEW_BACKERS_DIGEST)


def link_tokens(owner, tag: str = "") -> dict[str, str]:
    """Working links of each kind (World's ``*_token``): a new unverified account's sign-up
    link, and the owner's reset, change of e-mail and undo links."""
    from app.accounts import tokens

    newcomer = gen_user(f"{tag}unverified@example.com", "Unverified", verified=False)
    return {
        "verify_token": tokens.verification(newcomer),
        "reset_token": tokens.reset(owner, owner.reset_serial),
        "email_change_token": tokens.email_change(owner, f"{tag}moved@example.com"),
        "undo_token": tokens.email_undo(owner.id, f"{tag}old-owner@example.com", owner.email),
    }


def email_of(visitor: str) -> str:
    return f"{visitor}@example.com"


def log_in(client, visitor: str, email: str | None = None) -> str:
    """Log the visitor in (unless anonymous); a CSRF token from a page it can load.

    Logged-in visitors take the token of the log out form on the home page; the anonymous
    visitor the one of the log in form.
    """
    if visitor == "anonymous":
        forms = parse_forms(client.get("/login").get_data(as_text=True))
        (login,) = [f for f in forms if f["action"] in ("", "/login") and "email" in f["fields"]]
        return login["fields"]["csrf_token"]
    response = Browser(client).login(email or email_of(visitor))
    assert response.status_code == 302, f"{visitor} could not log in"
    forms = parse_forms(client.get("/").get_data(as_text=True))
    (logout,) = [f for f in forms if f["action"] == "/logout"]
    return logout["fields"]["csrf_token"]


def held_pledge(client, stripe_fake, project, tier) -> tuple[int, str]:
    """The logged-in client's $25 pledge to ``tier``, paid at the fake Stripe: its id and its
    PaymentIntent's."""
    pledge, _ = pay_through_pages(Browser(client), stripe_fake, project, tier=tier, amount="25")
    pledge = db.session.get(Pledge, pledge.id)
    assert pledge.status.value == "held"
    ids = pledge.id, pledge.payments[0].stripe_payment_intent_id
    db.session.rollback()
    return ids


def build_world(app, stripe_fake) -> World:
    users = {v: gen_user(email_of(v), v.title(), role=role) for v, role in ROLES.items()}
    owner = users["owner"]
    owner.avatar_image = uploads.save_cover(png_bytes((200, 120, 40)))
    project = gen_project(owner, "live", title=TITLE, tiers=2)
    project.cover_image = uploads.save_cover(png_bytes())
    ended = gen_project(owner, "cancelled", title="Ended Sun Lamp")
    db.session.commit()
    ready_account(owner, stripe_fake)  # so the payout pages talk to Stripe for the owner
    backed, other = project.tiers[0], project.tiers[1]
    world = World(
        project_id=project.id,
        backed_tier_id=backed.id,
        tier_id=other.id,
        pledge_id=0,
        payment_intent_id="",
        cover=project.cover_image,
        ended_project_id=ended.id,
        user_ids={v: u.id for v, u in users.items()},
        slug=project.slug,
        person_id=owner.id,
        person_slug=slug_of_person(owner),
        unsubscribe_token=owner_unsubscribe_token(app, owner.id),
        **link_tokens(owner),
    )
    for visitor in VISITORS:
        world.clients[visitor] = app.test_client()
        world.tokens[visitor] = log_in(world.clients[visitor], visitor)
    world.pledge_id, world.payment_intent_id = held_pledge(
        world.clients["backer"], stripe_fake, project, backed
    )
    world.update_number, world.update_image, world.update_id = gen_update_row(project, owner.id)
    world.stretch_goal_id = gen_stretch_goal_row(project)
    world.addon_id = gen_addon_row(project)
    return world


def gen_update_row(project, author_id: int) -> tuple[int, str, int]:
    """A backers-only update with an image, made as a row (any project state), with an open
    report of it by its author (as a row: so that every visitor may still report it): its
    number, image file name and id."""
    from app.reports.models import Report
    from app.updates.models import Update

    image = uploads.save_cover(png_bytes((90, 30, 200)))
    update = Update(
        project_id=project.id,
        number=1,
        author_id=author_id,
        title="Backers' news",
        body="Only for backers.",
        public=False,
        image=image,
    )
    db.session.add(update)
    db.session.flush()
    db.session.add(
        Report(
            reporter_id=author_id,
            project_id=project.id,
            target_type="update",
            target_id=update.id,
            update_id=update.id,
            reason="spam",
        )
    )
    db.session.commit()
    return 1, image, update.id


def gen_stretch_goal_row(project) -> int:
    """A stretch goal at $3,000, made as a row (any project state): its id."""
    from app.stretch.models import StretchGoal

    goal = StretchGoal(project_id=project.id, amount=300_000, title="Gold", description="Gold.")
    db.session.add(goal)
    db.session.commit()
    return goal.id


def gen_addon_row(project) -> int:
    """An add-on at $12 nobody has chosen, made as a row (any project state): its id."""
    from app.addons.models import Addon

    addon = Addon(project_id=project.id, price=1200, title="Extra deck", description="More.")
    db.session.add(addon)
    db.session.commit()
    return addon.id


def newest_session_of(user_id: int) -> int:
    """The id of the user's newest signed-in session (0 if none)."""
    from sqlalchemy import func, select

    from app.accounts.sessions import UserSession

    newest = select(func.max(UserSession.id)).where(UserSession.user_id == user_id)
    found = db.session.scalar(newest)
    db.session.rollback()
    return found or 0


def clear_flashes(client) -> None:
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def flashed(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))
