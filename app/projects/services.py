"""Project operations: drafts, review, launch, ending early, and finding projects.

They flush but never commit; the request or command that calls them commits once.
Every state change goes through ``change_status``: the domain table says whether it is
allowed, a compare-and-set UPDATE makes it stick even when two people act at once, and the
audit log records who, when, what and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import delete, func, or_, select

from app import clock, events
from app.accounts.models import User
from app.errors import UserError
from app.extensions import db
from app.i18n import N_
from app.moves import move
from app.projects import revisions
from app.projects.domain import (
    Action,
    DraftFacts,
    IllegalTransition,
    ProjectStatus,
    deadline_for,
    missing_for_submission,
    next_status,
)
from app.projects.models import Category, CoverUpload, Project, ProjectEvent

S = ProjectStatus

# Fields a creator may change, by the project's state (anything else posted is ignored).
DRAFT_FIELDS = (
    "title",
    "blurb",
    "story",
    "category_id",
    "currency",
    "goal_amount",
    "duration_days",
    "creator_timezone",
    "text_language",
    "country",
)
LIVE_FIELDS = ("title", "blurb", "story")
# Projects that count toward DRAFTS_PER_ACCOUNT: still being written, or waiting for review.
OPEN_STATUSES = (S.DRAFT, S.SUBMITTED)
COVER_WINDOW = timedelta(hours=1)  # COVER_UPLOADS_PER_HOUR counts the uploads of this long


class ProjectError(UserError):
    """A project operation refused; the message is fit to show the user."""


class DraftQuotaReached(ProjectError):
    """The owner has DRAFTS_PER_ACCOUNT projects open already."""


class CoverQuotaReached(ProjectError):
    """The account uploaded COVER_UPLOADS_PER_HOUR covers in the last hour."""


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.name)))


def create_draft(owner: User, values: dict[str, Any]) -> Project:
    """A new draft, unless the owner already has DRAFTS_PER_ACCOUNT projects open (drafts
    and projects in review): then ProjectError, and the caller rolls back."""
    check_draft_quota(owner.id)
    lock_account(owner.id)
    project = Project(
        owner_id=owner.id, status=S.DRAFT, **{k: values[k] for k in DRAFT_FIELDS if k in values}
    )
    db.session.add(project)
    db.session.flush()
    # Counted again after the insert, under the account's lock (the write lock on SQLite):
    # two tabs submitting at once cannot both take the last place.
    check_draft_quota(owner.id, just_added=project.id)
    return project


# ---- quotas per account -----------------------------------------------------------------


def lock_account(user_id: int) -> None:
    """Serialise one account's quota checks: the user row's lock on PostgreSQL (FOR NO KEY
    UPDATE: rows referencing the user can still be written). SQLite has no row locks; there
    the callers write before they count, which takes the database's one write lock."""
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def open_drafts(owner_id: int, exclude_id: int | None = None) -> dict[ProjectStatus, int]:
    """How many of the owner's projects are open as drafts and in review."""
    query = (
        select(Project.status, func.count())
        .where(Project.owner_id == owner_id, Project.status.in_(OPEN_STATUSES))
        .group_by(Project.status)
    )
    if exclude_id is not None:
        query = query.where(Project.id != exclude_id)
    counts = dict(db.session.execute(query).all())
    return {status: counts.get(status, 0) for status in OPEN_STATUSES}


def draft_quota_refusal(owner_id: int, exclude_id: int | None = None) -> str | None:
    """Why the owner may not start another project now, or None if they may."""
    limit = current_app.config["DRAFTS_PER_ACCOUNT"]
    counts = open_drafts(owner_id, exclude_id)
    total = sum(counts.values())
    if total < limit:
        return None
    drafts, in_review = counts[S.DRAFT], counts[S.SUBMITTED]
    parts = [ngettext("%(num)d draft", "%(num)d drafts", drafts)] if drafts else []
    if in_review:
        parts.append(gettext("%(num)d in review", num=in_review))
    return ngettext(
        "You already have %(num)d project open (%(parts)s), the most an account may have at "
        "once. Drafts cannot be deleted: to start another, submit a draft for review, wait "
        "for the moderators' decision on one in review, or reuse one of your drafts "
        "(everything in a draft can still be changed).",
        "You already have %(num)d projects open (%(parts)s), the most an account may have at "
        "once. Drafts cannot be deleted: to start another, submit a draft for review, wait "
        "for the moderators' decision on one in review, or reuse one of your drafts "
        "(everything in a draft can still be changed).",
        total,
        parts=gettext(", ").join(parts),
    )


def check_draft_quota(owner_id: int, just_added: int | None = None) -> None:
    refusal = draft_quota_refusal(owner_id, exclude_id=just_added)
    if refusal:
        raise DraftQuotaReached(refusal)


def cover_upload_allowed_at(user_id: int, now: datetime, exclude_id: int | None = None):
    """When the account may upload its next cover, or None if it may now: at most
    COVER_UPLOADS_PER_HOUR in any hour."""
    limit = current_app.config["COVER_UPLOADS_PER_HOUR"]
    query = (
        select(CoverUpload.created_at)
        .where(CoverUpload.user_id == user_id, CoverUpload.created_at > now - COVER_WINDOW)
        .order_by(CoverUpload.created_at)
    )
    if exclude_id is not None:
        query = query.where(CoverUpload.id != exclude_id)
    recent = db.session.scalars(query).all()
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + COVER_WINDOW


def check_cover_quota(
    user_id: int, now: datetime, zone: str = "UTC", exclude_id: int | None = None
) -> None:
    """CoverQuotaReached, saying when to try again (in ``zone``, the creator's), if the
    account has uploaded its COVER_UPLOADS_PER_HOUR."""
    allowed = cover_upload_allowed_at(user_id, now, exclude_id)
    if allowed is None:
        return
    # Said to the minute, rounded up: trying again at the time given always works.
    allowed = (allowed + timedelta(minutes=1)).replace(second=0, microsecond=0)
    minutes = max(1, round((allowed - now).total_seconds() / 60))
    try:
        local = allowed.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = allowed
    at = f"{local:%H:%M} {local.tzname() or zone}"
    limit = current_app.config["COVER_UPLOADS_PER_HOUR"]
    raise CoverQuotaReached(
        ngettext(
            "You have uploaded %(limit)d covers in the last hour, the most allowed. You can "
            "upload another in %(num)d minute (at %(at)s); until then, save without choosing "
            "a file.",
            "You have uploaded %(limit)d covers in the last hour, the most allowed. You can "
            "upload another in %(num)d minutes (at %(at)s); until then, save without choosing "
            "a file.",
            minutes,
            limit=limit,
            at=at,
        )
    )


def record_cover_upload(user_id: int, now: datetime, zone: str = "UTC") -> None:
    """Count a stored cover toward the account's quota; CoverQuotaReached (the caller rolls back
    and removes the file) if another upload of the account took the last place meanwhile."""
    lock_account(user_id)
    db.session.execute(
        delete(CoverUpload).where(
            CoverUpload.user_id == user_id, CoverUpload.created_at <= now - COVER_WINDOW
        )
    )
    upload = CoverUpload(user_id=user_id, created_at=now)
    db.session.add(upload)
    db.session.flush()
    check_cover_quota(user_id, now, zone, exclude_id=upload.id)


def editable_fields(project: Project) -> tuple[str, ...]:
    """What the creator may still change: everything in a draft; words and cover while live."""
    if project.status is S.DRAFT:
        return DRAFT_FIELDS
    if project.status is S.LIVE:
        return LIVE_FIELDS
    return ()


def update_project(project: Project, values: dict[str, Any], editor_id: int | None = None) -> None:
    """Change what the creator may still change; a live project's changes are kept as
    revisions (app/projects/revisions.py)."""
    allowed = editable_fields(project)
    if not allowed:
        raise ProjectError(
            gettext("A %(status)s project cannot be edited.", status=project.status.label)
        )
    for key in allowed:
        if key in values:
            revisions.record(project, editor_id, key, getattr(project, key), values[key])
            setattr(project, key, values[key])
    db.session.flush()


def checklist(project: Project) -> list[str]:
    """What the draft still lacks before review."""
    return missing_for_submission(
        DraftFacts(
            title=project.title or "",
            blurb=project.blurb or "",
            story=project.story or "",
            category_id=project.category_id,
            goal=project.goal_amount or 0,
            duration_days=project.duration_days or 0,
            has_cover=bool(project.cover_image),
            tier_count=len(project.tiers),
        )
    )


def change_status(
    project: Project,
    action: Action,
    actor: User | None,
    reason: str = "",
    **changes: Any,
) -> None:
    """Apply ``action`` if the state machine allows it from the project's current state."""
    current = project.status
    target = next_status(current, action)
    if not move(Project, project.id, {current}, target, **changes):
        db.session.refresh(project)
        raise IllegalTransition(
            gettext(
                "This project changed while you were looking at it: it is now %(status)s. "
                "Reload the page and try again.",
                status=project.status.label,
            )
        )
    db.session.add(
        ProjectEvent(
            project_id=project.id,
            actor_id=actor.id if actor else None,
            action=action.name.lower(),
            from_status=current,
            to_status=target,
            reason=reason.strip(),
        )
    )
    db.session.flush()
    db.session.refresh(project)


def submit(project: Project, owner: User) -> None:
    missing = checklist(project)
    if project.status is S.DRAFT and missing:
        raise ProjectError(
            gettext(
                "The project is not ready for review. It still needs: %(missing)s.",
                missing=gettext(", ").join(missing),
            )
        )
    change_status(project, Action.SUBMIT, owner, submitted_at=clock.now())


def approve(project: Project, moderator: User, note: str = "") -> None:
    change_status(project, Action.APPROVE, moderator, note)
    events.publish(events.ProjectReviewed(project.id, "approve", note.strip()))


def request_changes(project: Project, moderator: User, reason: str) -> None:
    change_status(project, Action.REQUEST_CHANGES, moderator, _required(reason), submitted_at=None)
    events.publish(events.ProjectReviewed(project.id, "request_changes", reason.strip()))


def reject(project: Project, moderator: User, reason: str) -> None:
    change_status(project, Action.REJECT, moderator, _required(reason))
    events.publish(events.ProjectReviewed(project.id, "reject", reason.strip()))


def launch(project: Project, owner: User, now: datetime | None = None) -> None:
    """Go live: the deadline is fixed now, as launch time plus the duration, in UTC."""
    now = now or clock.now()
    change_status(
        project,
        Action.LAUNCH,
        owner,
        launched_at=now,
        deadline=deadline_for(now, project.duration_days),
    )
    events.publish(events.ProjectLaunched(project.id))


def plan_launch(project: Project, day: date | None) -> None:
    """Announce (or, with None, withdraw) the day an approved project should launch."""
    if not project.may_launch:
        raise ProjectError(
            gettext("Only an approved project waiting for launch has a launch date.")
        )
    project.launch_on = day
    db.session.flush()


def cancel(project: Project, owner: User, reason: str = "", now: datetime | None = None) -> None:
    """The creator ends a live project early; settlement then refunds every backer."""
    change_status(project, Action.CANCEL, owner, reason, ended_at=now or clock.now())


def suspend(project: Project, moderator: User, reason: str, now: datetime | None = None) -> None:
    """A moderator stops a live project; settlement then refunds every backer."""
    change_status(
        project, Action.SUSPEND, moderator, _required(reason), ended_at=now or clock.now()
    )


def _required(reason: str) -> str:
    if not (reason or "").strip():
        raise ProjectError(gettext("Give a reason: the creator will see it."))
    return reason


def last_decision(project: Project) -> ProjectEvent | None:
    """The latest moderator decision or ending, to show the creator what happened and why."""
    for event in reversed(project.events):
        if event.action in {"request_changes", "reject", "approve", "suspend", "cancel"}:
            return event
    return None


# ---- the review queue -------------------------------------------------------------------


def review_queue() -> list[Project]:
    """Projects waiting for review, oldest first."""
    return list(
        db.session.scalars(
            select(Project)
            .where(Project.status == S.SUBMITTED)
            .order_by(Project.submitted_at, Project.id)
        )
    )


def settlement_held() -> list[Project]:
    """Projects whose settlement stopped because their books disagree: for an admin."""
    return list(
        db.session.scalars(
            select(Project).where(Project.settlement_hold != "").order_by(Project.id)
        )
    )


def queue_position(project: Project) -> int | None:
    """1 for the next project to be reviewed; None when not waiting."""
    if project.status is not S.SUBMITTED or project.submitted_at is None:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Project)
        .where(
            Project.status == S.SUBMITTED,
            or_(
                Project.submitted_at < project.submitted_at,
                (Project.submitted_at == project.submitted_at) & (Project.id < project.id),
            ),
        )
    )
    return ahead + 1


# ---- discovering projects ---------------------------------------------------------------

SORTS = {
    "newest": (N_("Newest"), (Project.launched_at.desc(), Project.id.desc())),
    "ending": (N_("Ending soon"), (Project.deadline.asc(), Project.id)),
    "funded": (N_("Most funded"), (Project.pledged_amount.desc(), Project.id)),
    "backers": (N_("Most backers"), (Project.backer_count.desc(), Project.id)),
}


@dataclass(frozen=True)
class DiscoverQuery:
    q: str = ""
    category: str = ""
    sort: str = "newest"
    page: int = 1


def discover(query: DiscoverQuery, per_page: int):
    """Live projects matching the search, filtered and sorted; a Flask-SQLAlchemy page."""
    stmt = select(Project).where(Project.status == S.LIVE)
    if query.category:
        stmt = stmt.join(Category).where(Category.slug == query.category)
    words = query.q.strip()
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Project.title.ilike(pattern, escape="\\"), Project.blurb.ilike(pattern, escape="\\")
            )
        )
    stmt = stmt.order_by(*SORTS.get(query.sort, SORTS["newest"])[1])
    return db.paginate(stmt, page=query.page, per_page=per_page, error_out=False)


def recently_ended(limit: int = 6) -> list[Project]:
    return list(
        db.session.scalars(
            select(Project)
            .where(Project.status.in_([S.FUNDED, S.PAID_OUT, S.FAILED]))
            .order_by(Project.deadline.desc())
            .limit(limit)
        )
    )
