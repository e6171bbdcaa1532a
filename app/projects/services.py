"""Project operations: drafts, review, launch, ending early, and finding projects.

They flush but never commit; the request or command that calls them commits once.
Every state change goes through ``change_status``: the domain table says whether it is
allowed, a compare-and-set UPDATE makes it stick even when two people act at once, and the
audit log records who, when, what and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update

from app import clock
from app.accounts.models import User
from app.errors import UserError
from app.extensions import db
from app.projects.domain import (
    Action,
    DraftFacts,
    IllegalTransition,
    ProjectStatus,
    deadline_for,
    missing_for_submission,
    next_status,
)
from app.projects.models import Category, Project, ProjectEvent

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
)
LIVE_FIELDS = ("title", "blurb", "story")


class ProjectError(UserError):
    """A project operation refused; the message is fit to show the user."""


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.name)))


def create_draft(owner: User, values: dict[str, Any]) -> Project:
    project = Project(
        owner_id=owner.id, status=S.DRAFT, **{k: values[k] for k in DRAFT_FIELDS if k in values}
    )
    db.session.add(project)
    db.session.flush()
    return project


def editable_fields(project: Project) -> tuple[str, ...]:
    """What the creator may still change: everything in a draft; words and cover while live."""
    if project.status is S.DRAFT:
        return DRAFT_FIELDS
    if project.status is S.LIVE:
        return LIVE_FIELDS
    return ()


def update_project(project: Project, values: dict[str, Any]) -> None:
    allowed = editable_fields(project)
    if not allowed:
        raise ProjectError(f"A {project.status.label} project cannot be edited.")
    for key in allowed:
        if key in values:
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
    result = db.session.execute(
        update(Project)
        .where(Project.id == project.id, Project.status == current)
        .values(status=target, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(project)
        raise IllegalTransition(
            f"This project changed while you were looking at it: it is now "
            f"{project.status.label}. Reload the page and try again."
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
            "The project is not ready for review. It still needs: " + ", ".join(missing) + "."
        )
    change_status(project, Action.SUBMIT, owner, submitted_at=clock.now())


def approve(project: Project, moderator: User, note: str = "") -> None:
    change_status(project, Action.APPROVE, moderator, note)


def request_changes(project: Project, moderator: User, reason: str) -> None:
    change_status(project, Action.REQUEST_CHANGES, moderator, _required(reason), submitted_at=None)


def reject(project: Project, moderator: User, reason: str) -> None:
    change_status(project, Action.REJECT, moderator, _required(reason))


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
        raise ProjectError("Give a reason: the creator will see it.")
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
    "newest": ("Newest", (Project.launched_at.desc(), Project.id.desc())),
    "ending": ("Ending soon", (Project.deadline.asc(), Project.id)),
    "funded": ("Most funded", (Project.pledged_amount.desc(), Project.id)),
    "backers": ("Most backers", (Project.backer_count.desc(), Project.id)),
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
