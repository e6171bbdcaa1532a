"""Projects, their categories and the audit log of their decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.accounts.models import User
from app.db_types import UTCDateTime, enum_type
from app.extensions import db
from app.i18n import N_, gettext
from app.projects.domain import (
    EDITABLE_STATUSES,
    FUNDED_STATUSES,
    PUBLIC_STATUSES,
    STATEMENT_STATUSES,
    ProjectStatus,
)
from app.projects.slugs import slug_of

if TYPE_CHECKING:  # the relationship's other side, named by string (no import cycle)
    from app.addons.models import Addon
    from app.rewards.models import RewardTier


class Category(db.Model):
    """A fixed list, created by a migration."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))

    @property
    def label(self) -> str:
        """The category's name in the reader's language (the row holds the English one)."""
        return gettext(CATEGORY_NAMES[self.slug]) if self.slug in CATEGORY_NAMES else self.name


# The names of the migration's categories, for the catalogue.
CATEGORY_NAMES = {
    "art": N_("Art"),
    "comics": N_("Comics"),
    "crafts": N_("Crafts"),
    "design": N_("Design"),
    "fashion": N_("Fashion"),
    "film": N_("Film & Video"),
    "food": N_("Food"),
    "games": N_("Games"),
    "journalism": N_("Journalism"),
    "music": N_("Music"),
    "photography": N_("Photography"),
    "publishing": N_("Publishing"),
    "technology": N_("Technology"),
    "theater": N_("Theater"),
}


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("goal_amount > 0", name="goal_positive"),
        CheckConstraint("duration_days BETWEEN 1 AND 60", name="duration_range"),
        CheckConstraint("pledged_amount >= 0", name="pledged_not_negative"),
        CheckConstraint("backer_count >= 0", name="backers_not_negative"),
        Index("ix_projects_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    blurb: Mapped[str] = mapped_column(String(160), default="")
    story: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    # The language the creator writes the project's own text in (a BCP 47 tag from
    # app.i18n.TEXT_LANGUAGES); pages mark that text with it, it is never translated.
    text_language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    cover_image: Mapped[str | None] = mapped_column(String(64))  # file name under uploads/
    currency: Mapped[str] = mapped_column(String(3))
    # Where the project is based (ISO 3166-1 alpha-2): a reward's "domestic" shipping goes here.
    country: Mapped[str | None] = mapped_column(String(2))
    goal_amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    duration_days: Mapped[int]
    creator_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[ProjectStatus] = mapped_column(
        enum_type(ProjectStatus, "project_status"), default=ProjectStatus.DRAFT, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Approved: the day (in the creator's zone) they plan to launch, shown on the pre-launch page.
    launch_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Settlement: who works on it until when (a lease, so a crashed run is resumed by
    # another), and when every pledge reached its final state.
    settlement_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Settlement found the books disagreeing and stopped: what differs, for an admin.
    settlement_hold: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Running totals of held pledges, kept in the same transaction as the pledges they count;
    # they let the discover page sort without summing every pledge.
    pledged_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    backer_count: Mapped[int] = mapped_column(default=0)

    owner: Mapped[User] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    tiers: Mapped[list[RewardTier]] = relationship(
        "RewardTier", back_populates="project", order_by="RewardTier.minimum_amount, RewardTier.id"
    )
    events: Mapped[list[ProjectEvent]] = relationship(
        back_populates="project", order_by="ProjectEvent.id"
    )
    addons: Mapped[list[Addon]] = relationship(
        "Addon", back_populates="project", order_by="Addon.price, Addon.id"
    )

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def slug(self) -> str:
        """The readable part of the project's URL, from its title ("" for none)."""
        return slug_of(self.title)

    @property
    def is_live(self) -> bool:
        return self.status is ProjectStatus.LIVE

    @property
    def is_followable(self) -> bool:
        """Live, or approved and not launched yet: people may ask to be reminded."""
        return self.status in (ProjectStatus.APPROVED, ProjectStatus.LIVE)

    @property
    def is_draft(self) -> bool:
        return self.status is ProjectStatus.DRAFT

    @property
    def in_review(self) -> bool:
        return self.status is ProjectStatus.SUBMITTED

    @property
    def may_launch(self) -> bool:
        """Approved by a moderator and waiting for its creator to launch it."""
        return self.status is ProjectStatus.APPROVED

    @property
    def has_statement(self) -> bool:
        """The outcome is known, so its money statement can be shown."""
        return self.status in STATEMENT_STATUSES

    @property
    def is_paid_out(self) -> bool:
        return self.status is ProjectStatus.PAID_OUT

    @property
    def was_funded(self) -> bool:
        return self.status in FUNDED_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def visible_to(self, user) -> bool:
        """Public projects to all; the rest to their owner and moderators only."""
        if self.is_public:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        return user.id == self.owner_id or user.is_moderator

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.status.value} {self.title!r}>"


class ProjectEvent(db.Model):
    """The audit log: who did what to a project, when, and why."""

    __tablename__ = "project_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[ProjectStatus] = mapped_column(enum_type(ProjectStatus, "project_status"))
    to_status: Mapped[ProjectStatus] = mapped_column(enum_type(ProjectStatus, "project_status"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)

    project: Mapped[Project] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")


class CoverUpload(db.Model):
    """A cover an account stored, kept for an hour: the per-account upload quota counts these
    rows, so it holds across web workers (COVER_UPLOADS_PER_HOUR)."""

    __tablename__ = "cover_uploads"
    __table_args__ = (Index("ix_cover_uploads_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectRevision(db.Model):
    """One change a creator made to a live project's words, cover or tiers: what it was and
    what it became, so moderators see each change (and may revert it) and backers see that
    the story changed since they pledged."""

    __tablename__ = "project_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(40))  # title, blurb, story, cover, tier_title, ...
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("reward_tiers.id"))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    # Set when a moderator put the old value back (the revert is a revision of its own).
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    editor: Mapped[User | None] = relationship(foreign_keys=[editor_id], lazy="joined")
