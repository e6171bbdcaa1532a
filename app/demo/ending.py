"""`flask demo end`: bring a live project's deadline to now, so settlement can be watched.

Offline only. Flushes; the command commits. The deadline moves with a compare-and-set UPDATE
(still live, deadline still ahead), the same row pledges raise their totals on under
``deadline > now``: a pledge either lands before the new deadline or is refused after it,
and the scheduler's next settlement sweep claims the project like any other past its deadline.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.errors import UserError
from app.extensions import db
from app.moves import move
from app.projects.domain import ProjectStatus
from app.projects.models import Project, ProjectEvent

ACTION = "demo_end"  # the audit log's name for it
MAX_ID = 2**31 - 1  # project ids are 32-bit integers; a larger number names none


class DemoEndRefused(UserError):
    """Not offline, no such project, or not live: the message says which."""


def end_now(project_ref: str, now: datetime) -> tuple[Project, bool]:
    """Move the live project's deadline to ``now``; (project, False) if it had passed already."""
    if current_app.config["STRIPE_SECRET_KEY"]:
        raise DemoEndRefused(
            "flask demo end works only offline, against the fake Stripe: "
            "STRIPE_SECRET_KEY is set, so this site talks to Stripe."
        )
    project = db.session.get(Project, _project_id(project_ref))
    if project is None:
        raise DemoEndRefused(f"There is no project {project_ref}.")
    if project.status is not ProjectStatus.LIVE:
        raise DemoEndRefused(
            f"Project {project.id} ({project.title}) is {project.status.value}, not live: "
            "only a live project can be ended."
        )
    before = project.deadline
    moved = move(
        Project, project.id, {ProjectStatus.LIVE}, where=[Project.deadline > now], deadline=now
    )
    db.session.refresh(project)
    if not moved:
        if project.status is not ProjectStatus.LIVE:  # settlement took it meanwhile
            raise DemoEndRefused(f"Project {project.id} ({project.title}) is no longer live.")
        return project, False
    db.session.add(
        ProjectEvent(
            project_id=project.id,
            actor_id=None,
            action=ACTION,
            from_status=ProjectStatus.LIVE,
            to_status=ProjectStatus.LIVE,
            reason=f"Deadline moved from {before:%Y-%m-%d %H:%M} UTC to now (flask demo end).",
            created_at=now,
        )
    )
    db.session.flush()
    return project, True


def _project_id(ref: str) -> int:
    text = ref.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()):
        raise DemoEndRefused(f"PROJECT is a project's number (as in /projects/12), not {ref!r}.")
    if int(text) > MAX_ID:
        raise DemoEndRefused(f"There is no project {ref}.")
    return int(text)
