"""Changes to a live project, kept as revisions: recorded when the creator saves, shown to
moderators as a diff they can revert, and listed for backers when the story changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select, update

from app import clock
from app.extensions import db
from app.i18n import N_
from app.moves import move
from app.projects.models import Project, ProjectRevision, ProjectStatus

# Fields a moderator can put back as they were (the rest are shown, not reverted).
REVERTIBLE = {"title", "blurb", "story", "cover", "tier_title", "tier_description"}
FIELD_LABELS = {
    "title": N_("Title"),
    "blurb": N_("Short blurb"),
    "story": N_("Story"),
    "cover": N_("Cover image"),
    "tier_title": N_("Reward title"),
    "tier_description": N_("What backers get"),
    "tier_minimum": N_("Minimum pledge"),
    "tier_limit": N_("Limited quantity"),
    "tier_delivery": N_("Estimated delivery"),
    "tier_shipping": N_("Shipping"),
    "tier_added": N_("Reward added"),
    "tier_deleted": N_("Reward deleted"),
}
TIER_FIELDS = {  # revision field -> reward tier attribute
    "tier_title": "title",
    "tier_description": "description",
    "tier_minimum": "minimum_amount",
    "tier_limit": "quantity_limit",
    "tier_delivery": "estimated_delivery",
}


class RevertRefused(Exception):
    """The message is a catalogue entry."""


def _text(value) -> str:
    return "" if value is None else str(value)


def record(
    project: Project,
    editor_id: int | None,
    field: str,
    old,
    new,
    tier_id: int | None = None,
) -> ProjectRevision | None:
    """Keep a change to a live project; nothing for a draft or an unchanged value."""
    if project.status is not ProjectStatus.LIVE or _text(old).strip() == _text(new).strip():
        return None  # a draft, or nothing a reader would see as changed
    revision = ProjectRevision(
        project_id=project.id,
        editor_id=editor_id,
        field=field,
        tier_id=tier_id,
        old_value=_text(old),
        new_value=_text(new),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def forget_tier(tier_id: int) -> None:
    """A tier is deleted: its revisions stay, pointing at no tier (no longer revertible)."""
    db.session.execute(
        update(ProjectRevision)
        .where(ProjectRevision.tier_id == tier_id)
        .values(tier_id=None)
        .execution_options(synchronize_session=False)
    )


def of_project(project_id: int) -> list[ProjectRevision]:
    """Every change, newest first."""
    return list(
        db.session.scalars(
            select(ProjectRevision)
            .where(ProjectRevision.project_id == project_id)
            .order_by(ProjectRevision.id.desc())
        )
    )


def project_with_cover(name: str) -> Project | None:
    """The project one of whose revisions names this cover file (an earlier one)."""
    return db.session.scalar(
        select(Project)
        .join(ProjectRevision, ProjectRevision.project_id == Project.id)
        .where(
            ProjectRevision.field == "cover",
            (ProjectRevision.old_value == name) | (ProjectRevision.new_value == name),
        )
        .limit(1)
    )


def story_edits(project_id: int) -> list[ProjectRevision]:
    return [r for r in of_project(project_id) if r.field == "story"]


def revert(revision: ProjectRevision, moderator_id: int) -> ProjectRevision:
    """Put the old value back, if the field still holds what the revision made it (else a
    later change would be lost); the revert is recorded as a revision by the moderator."""
    if revision.field not in REVERTIBLE:
        raise RevertRefused(N_("This kind of change cannot be reverted here."))
    # Take the project's row (no eager joins: PostgreSQL refuses FOR UPDATE on an outer join).
    db.session.execute(
        select(Project.id).where(Project.id == revision.project_id).with_for_update()
    )
    project = db.session.get(Project, revision.project_id)
    target, attribute = project, revision.field
    if revision.field in TIER_FIELDS:
        target = next((t for t in project.tiers if t.id == revision.tier_id), None)
        attribute = TIER_FIELDS[revision.field]
    elif revision.field == "cover":
        attribute = "cover_image"
    if target is None or _text(getattr(target, attribute)) != revision.new_value:
        raise RevertRefused(N_("The field has changed again since: revert the newer change."))
    won = move(
        ProjectRevision,
        revision.id,
        None,
        where=[ProjectRevision.reverted_at.is_(None)],
        reverted_at=clock.now(),
        reverted_by_id=moderator_id,
    )
    if not won:
        raise RevertRefused(N_("This change was already reverted."))
    setattr(
        target,
        attribute,
        revision.old_value or None if attribute == "cover_image" else revision.old_value,
    )
    db.session.flush()
    undo = ProjectRevision(
        project_id=project.id,
        editor_id=moderator_id,
        field=revision.field,
        tier_id=revision.tier_id,
        old_value=revision.new_value,
        new_value=revision.old_value,
    )
    db.session.add(undo)
    db.session.flush()
    db.session.refresh(revision)
    return undo


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def diff(old: str, new: str) -> list[DiffLine]:
    """Line by line: what was removed and what was added (the words as written, escaped by
    the template)."""
    kinds = {" ": "same", "+": "added", "-": "removed"}
    return [
        DiffLine(kinds[line[0]], line[2:])
        for line in difflib.ndiff(_lines(old), _lines(new))
        if line[0] in kinds
    ]


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]
