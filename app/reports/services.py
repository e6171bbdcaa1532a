"""Reporting a project and deciding reports. Services flush; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from app import clock, events
from app.accounts.models import User
from app.comments import services as comments
from app.comments.models import Comment, HiddenBy
from app.extensions import db
from app.i18n import N_
from app.projects import services as projects
from app.projects.models import Project, ProjectEvent
from app.reports.models import Report, ReportReason, ReportStatus, ReportTarget


class ReportRefused(Exception):
    """The message is a catalogue entry."""


def report_project(project: Project, reporter: User, reason: ReportReason, details: str) -> Report:
    if project.owner_id == reporter.id:
        raise ReportRefused(N_("You cannot report your own project."))
    if not project.is_public:
        raise ReportRefused(N_("Only a public project can be reported."))
    if db.session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == ReportTarget.PROJECT,
            Report.target_id == project.id,
            Report.status == ReportStatus.OPEN,
        )
    ):
        raise ReportRefused(N_("You have already reported this project: a moderator will look."))
    report = Report(
        reporter_id=reporter.id,
        project_id=project.id,
        target_type="project",
        target_id=project.id,
        reason=reason,
        details=details,
    )
    db.session.add(report)
    db.session.flush()
    return report


def report_comment(comment: Comment, reporter: User, reason: ReportReason, details: str) -> Report:
    if comment.author_id == reporter.id:
        raise ReportRefused(N_("You cannot report your own comment."))
    if not comment.is_shown:
        raise ReportRefused(N_("This comment is no longer shown."))
    if db.session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == ReportTarget.COMMENT,
            Report.target_id == comment.id,
            Report.status == ReportStatus.OPEN,
        )
    ):
        raise ReportRefused(N_("You have already reported this comment: a moderator will look."))
    report = Report(
        reporter_id=reporter.id,
        project_id=comment.project_id,
        target_type=ReportTarget.COMMENT.value,
        target_id=comment.id,
        comment_id=comment.id,
        reason=reason,
        details=details,
    )
    db.session.add(report)
    db.session.flush()
    return report


@dataclass(frozen=True)
class Group:
    """The open reports of one target (a project, or a comment), for the moderators' queue."""

    project: Project
    reports: list[Report]
    comment: Comment | None = None

    @property
    def first_at(self) -> datetime:
        return self.reports[0].created_at


def queue() -> list[Group]:
    """Open reports grouped by what they report, the group reported first at the top."""
    rows = db.session.scalars(
        select(Report).where(Report.status == ReportStatus.OPEN).order_by(Report.id)
    )
    groups: dict[tuple[str, int], list[Report]] = {}
    for report in rows:
        groups.setdefault((report.target_type, report.target_id), []).append(report)
    comment_ids = [i for kind, i in groups if kind == ReportTarget.COMMENT]
    found = {
        c.id: c
        for c in db.session.scalars(
            select(Comment).options(joinedload(Comment.author)).where(Comment.id.in_(comment_ids))
        )
    }
    return [
        Group(
            reports[0].project,
            reports,
            found.get(target_id) if kind == ReportTarget.COMMENT else None,
        )
        for (kind, target_id), reports in groups.items()
    ]


def decide(project: Project, moderator: User, suspend: bool, note: str) -> list[int]:
    """Close every open report of the project: dismissed, or acted on by suspending it (which
    refunds every backer, as any suspension does). The decision is in the project's audit log
    and each reporter hears of it. Returns the reports decided; none if another moderator
    decided first."""
    if suspend:
        projects.suspend(project, moderator, note)  # refuses unless live; logs itself
    status = ReportStatus.ACTED_ON if suspend else ReportStatus.DISMISSED
    decided = _close(ReportTarget.PROJECT, project.id, moderator, status, note)
    if decided and not suspend:
        db.session.add(
            ProjectEvent(
                project_id=project.id,
                actor_id=moderator.id,
                action="dismiss_reports",
                from_status=project.status,
                to_status=project.status,
                reason=note,
            )
        )
        db.session.flush()
    if decided:
        events.publish(events.ReportsDecided(tuple(decided)))
    return decided


def _close(
    target: ReportTarget, target_id: int, moderator: User, status: ReportStatus, note: str
) -> list[int]:
    """Close the target's open reports; the ids closed (none if decided already)."""
    return list(
        db.session.scalars(
            update(Report)
            .where(
                Report.target_type == target.value,
                Report.target_id == target_id,
                Report.status == ReportStatus.OPEN,
            )
            .values(
                status=status,
                decided_by_id=moderator.id,
                decided_at=clock.now(),
                decision_note=note,
            )
            .returning(Report.id)
            .execution_options(synchronize_session=False)
        )
    )


def decide_comment(comment: Comment, moderator: User, hide: bool, note: str) -> list[int]:
    """Close every open report of the comment: dismissed, or acted on by hiding it (with the
    note as the reason, in the project's audit log). Each reporter hears of it."""
    if hide:
        comments.hide(comment, moderator, HiddenBy.MODERATOR, note)  # logs itself
        status = ReportStatus.ACTED_ON
    else:
        status = ReportStatus.DISMISSED
    decided = _close(ReportTarget.COMMENT, comment.id, moderator, status, note)
    if decided and not hide:
        project = db.session.get(Project, comment.project_id)
        db.session.add(
            ProjectEvent(
                project_id=project.id,
                actor_id=moderator.id,
                action="dismiss_comment_reports",
                from_status=project.status,
                to_status=project.status,
                reason=f"#{comment.id}: {note}",
            )
        )
        db.session.flush()
    if decided:
        events.publish(events.ReportsDecided(tuple(decided)))
    return decided


def open_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Report).where(Report.status == ReportStatus.OPEN)
    )


def mine(user_id: int) -> list[Report]:
    return list(
        db.session.scalars(
            select(Report).where(Report.reporter_id == user_id).order_by(Report.id.desc())
        )
    )
