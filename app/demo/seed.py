"""Build the demo data through the real services; flush only, the command commits.

Projects are created, given tiers, submitted, approved by a demo moderator and launched
exactly as people would do it; the timestamps of the review steps are then moved back so
the audit log reads in order with a launch in the past. The live projects' pledges are made
afterwards, once this is committed, by pledging.py: through the checkout and Stripe, never by
setting totals.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from app import clock
from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.addons import services as addons
from app.campaign import referrals
from app.demo import conversations
from app.demo.data import BACKERS, DEMO_PASSWORD, PEOPLE, PROJECTS, Person, ProjectSpec, TierSpec
from app.demo.pledging import LiveProject
from app.extensions import db
from app.money import currency
from app.projects import services as projects
from app.projects import uploads
from app.projects.models import Category, Project
from app.rewards import services as rewards
from app.rewards.domain import Rule
from app.stretch import services as stretch

COVER_SIZE = (1280, 720)


@dataclass
class Summary:
    people: list[Person] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)
    tiers: int = 0
    password: str = DEMO_PASSWORD
    backer_ids: dict[str, int] = field(default_factory=dict)  # BACKERS key -> user id
    live: list[LiveProject] = field(default_factory=list)  # what pledging.py needs


def already_present() -> User | None:
    """The first demo account found, if the demo data (or part of it) is there already."""
    emails = [person.email for person in (*PEOPLE, *BACKERS)]
    return db.session.scalar(select(User).where(User.email.in_(emails)).order_by(User.id))


def seed(now: datetime | None = None) -> Summary:
    """Create every demo account and project; on failure, remove the cover files written."""
    now = now or clock.now()
    saved: list[str] = []
    try:
        return _seed(now, saved)
    except BaseException:
        for name in saved:
            uploads.remove(name)
        raise


def _seed(now: datetime, saved: list[str]) -> Summary:
    summary = Summary()
    users: dict[str, User] = {}
    for person in PEOPLE:
        users[person.key] = accounts.register(
            person.email, person.name, DEMO_PASSWORD, role=person.role, verified=True
        )
        summary.people.append(person)
    summary.backer_ids = {key: user.id for key, user in _backers().items()}
    categories = {c.slug: c for c in db.session.scalars(select(Category))}
    made = []
    for index, spec in enumerate(PROJECTS):
        project = _project(spec, index, users, categories, now, saved)
        made.append(project)
        if spec.launches:
            tier_ids = tuple(tier.id for tier in sorted(project.tiers, key=lambda t: t.id))
            addon_ids = tuple(addon.id for addon in sorted(project.addons, key=lambda a: a.id))
            summary.live.append(LiveProject(project.id, tier_ids, spec, addon_ids))
        summary.by_status[spec.status] = summary.by_status.get(spec.status, 0) + 1
        summary.tiers += len(spec.tiers)
    conversations.talk(made, list(summary.backer_ids.values()))
    return summary


def _backers() -> dict[str, User]:
    """The demo backers, ordinary accounts with the demo password.

    The first is registered through the service; the others reuse its password hash (the
    same password) because one scrypt hash takes about 80 ms and forty would take seconds.
    """
    first, *rest = BACKERS
    users = {first.key: accounts.register(first.email, first.name, DEMO_PASSWORD, verified=True)}
    password_hash = users[first.key].password_hash
    for person in rest:
        users[person.key] = User(
            email=person.email,
            display_name=person.name,
            password_hash=password_hash,
            role=Role.USER,
            email_verified_at=users[first.key].email_verified_at,
        )
        db.session.add(users[person.key])
    db.session.flush()
    return users


def _project(
    spec: ProjectSpec,
    index: int,
    users: dict[str, User],
    categories: dict[str, Category],
    now: datetime,
    saved: list[str],
) -> Project:
    owner = users[spec.owner]
    factor = currency(spec.currency).factor
    project = projects.create_draft(
        owner,
        {
            "title": spec.title,
            "blurb": spec.blurb,
            "story": spec.story,
            "category_id": categories[spec.category].id,
            "currency": spec.currency,
            "goal_amount": spec.goal * factor,
            "duration_days": spec.duration_days,
            "creator_timezone": spec.timezone,
            "country": spec.country,
        },
    )
    name = uploads.save_cover(cover_png(index, *spec.colours))
    saved.append(name)
    project.cover_image = name

    # When the project's steps happened: a live one launched in the past, so that its
    # deadline is `left` from now; the others moved through review in the last few days.
    launched_at = now - (timedelta(days=spec.duration_days) - spec.left)
    deadline = launched_at + timedelta(days=spec.duration_days)
    anchor = launched_at if spec.launches else now
    tiers = [
        rewards.add_tier(project, _tier_values(tier, factor, deliver_from=deadline))
        for tier in spec.tiers
    ]
    for extra in spec.addons:
        addons.add_addon(
            project,
            {"title": extra.title, "description": extra.description,
             "price": extra.price * factor, "quantity_limit": extra.limit,
             "shipping_rules": [Rule(d, fee * factor) for d, fee in extra.shipping_to]},
        )  # fmt: skip
    for goal in spec.stretch:
        stretch.add_goal(
            project,
            {"amount": goal.amount * factor, "title": goal.title, "description": goal.description},
        )
    if spec.status != "draft":
        projects.submit(project, owner)
    if spec.status == "approved" or spec.launches:
        projects.approve(project, users[spec.moderator], _approval_note(index))
    if spec.launches:
        projects.launch(project, owner, now=launched_at)
    for tag, label in spec.referral_tags:
        referrals.add_tag(project, tag, label)
    _backdate(project, tiers, anchor, "live" if spec.launches else spec.status)
    db.session.flush()
    return project


def _tier_values(tier: TierSpec, factor: int, deliver_from: datetime) -> dict:
    return {
        "title": tier.title,
        "description": tier.description,
        "minimum_amount": tier.minimum * factor,
        "quantity_limit": tier.limit,
        "shipping_rules": [Rule(d, fee * factor) for d, fee in tier.shipping_rules],
        "estimated_delivery": first_of_month(deliver_from.date(), tier.deliver_months),
    }


def first_of_month(day: date, months_later: int) -> date:
    """The first day of the month ``months_later`` months after ``day``'s month."""
    month_index = day.year * 12 + day.month - 1 + months_later
    return date(month_index // 12, month_index % 12 + 1, 1)


_NOTES = (
    "Clear story, realistic budget and delivery dates. Welcome aboard!",
    "Rewards are well described and the shipping costs are stated. Approved.",
    "Thanks for the detailed budget. Good luck with the campaign!",
)


def _approval_note(index: int) -> str:
    return _NOTES[index % len(_NOTES)]


# How long before the anchor (the launch, or now when not launched) each step happened.
_BEFORE = {
    "live": {
        "created": timedelta(days=6),
        "submit": timedelta(days=4),
        "approve": timedelta(days=2),
    },
    "approved": {
        "created": timedelta(days=5),
        "submit": timedelta(days=3),
        "approve": timedelta(days=1, hours=2),
    },
    "submitted": {"created": timedelta(days=2, hours=5), "submit": timedelta(hours=20)},
    "draft": {"created": timedelta(days=1, hours=3)},
}


def _backdate(project: Project, tiers: list, anchor: datetime, status: str) -> None:
    """Move the creation and review times back so the audit log reads as a real history."""
    steps = _BEFORE[status]
    created = anchor - steps["created"]
    project.created_at = created
    for tier in tiers:
        tier.created_at = created
    if "submit" in steps:
        project.submitted_at = anchor - steps["submit"]
    for event in project.events:
        if event.action == "launch":
            event.created_at = anchor
        elif event.action in steps:
            event.created_at = anchor - steps[event.action]


# ---- covers ------------------------------------------------------------------------------


def cover_png(seed: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A 1280x720 PNG: a two-colour gradient with a few soft shapes, different per seed."""
    width, height = COVER_SIZE
    rng = random.Random(seed)  # noqa: S311 - picture layout, not security
    mask = Image.linear_gradient("L")
    if seed % 2:
        mask = mask.rotate(90)
    mask = mask.resize(COVER_SIZE)
    image = Image.composite(
        Image.new("RGB", COVER_SIZE, bottom), Image.new("RGB", COVER_SIZE, top), mask
    )
    draw = ImageDraw.Draw(image, "RGBA")
    light = (255, 255, 255)
    dark = tuple(c // 3 for c in top)
    for i in range(rng.randint(4, 7)):
        colour = (*(light if i % 2 else dark), rng.randint(40, 110))
        x, y = rng.randint(0, width), rng.randint(0, height)
        size = rng.randint(60, 300)
        shape = rng.choice(("circle", "rect", "triangle"))
        if shape == "circle":
            draw.ellipse((x - size, y - size, x + size, y + size), fill=colour)
        elif shape == "rect":
            draw.rounded_rectangle(
                (x - size, y - size // 2, x + size, y + size // 2), radius=size // 5, fill=colour
            )
        else:
            draw.polygon([(x, y - size), (x + size, y + size), (x - size, y + size)], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()
