"""Reporting a project and deciding reports. Services flush; the view commits."""

from __future__ import annotations

from collections.abc import Callable
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
from app.updates import services as updates
from app.updates.models import Update


class ReportRefused(Exception):
    """The message is a catalogue entry."""


def _file(
    reporter: User,
    target: ReportTarget,
    target_id: int,
    project_id: int,
    reason: ReportReason,
    details: str,
    **column: int,
) -> Report:
    """The reporter's report of the target, unless they have one open about it already."""
    if db.session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == target.value,
            Report.target_id == target_id,
            Report.status == ReportStatus.OPEN,
        )
    ):
        raise ReportRefused(ALREADY[target])
    report = Report(
        reporter_id=reporter.id,
        project_id=project_id,
        target_type=target.value,
        target_id=target_id,
        reason=reason,
        details=details,
        **column,
    )
    db.session.add(report)
    db.session.flush()
    return report


ALREADY = {
    ReportTarget.PROJECT: N_("You have already reported this project: a moderator will look."),
    ReportTarget.COMMENT: N_("You have already reported this comment: a moderator will look."),
    ReportTarget.UPDATE: N_("You have already reported this update: a moderator will look."),
}


def report_project(project: Project, reporter: User, reason: ReportReason, details: str) -> Report:
    if project.owner_id == reporter.id:
        raise ReportRefused(N_("You cannot report your own project."))
    if not project.is_public:
        raise ReportRefused(N_("Only a public project can be reported."))
    return _file(reporter, ReportTarget.PROJECT, project.id, project.id, reason, details)


def report_comment(comment: Comment, reporter: User, reason: ReportReason, details: str) -> Report:
    if comment.author_id == reporter.id:
        raise ReportRefused(N_("You cannot report your own comment."))
    if not comment.is_shown:
        raise ReportRefused(N_("This comment is no longer shown."))
    return _file(
        reporter,
        ReportTarget.COMMENT,
        comment.id,
        comment.project_id,
        reason,
        details,
        comment_id=comment.id,
    )


def report_update(update: Update, reporter: User, reason: ReportReason, details: str) -> Report:
    if update.author_id == reporter.id:
        raise ReportRefused(N_("You cannot report your own update."))
    if update.is_deleted:
        raise ReportRefused(N_("This update was removed."))
    return _file(
        reporter,
        ReportTarget.UPDATE,
        update.id,
        update.project_id,
        reason,
        details,
        update_id=update.id,
    )


@dataclass(frozen=True)
class Group:
    """The open reports of one target (a project, a comment or an update), for the
    moderators' queue."""

    project: Project
    reports: list[Report]
    comment: Comment | None = None
    update: Update | None = None

    @property
    def first_at(self) -> datetime:
        return self.reports[0].created_at


def queue() -> list[Group]:
    """Open reports grouped by what they report, the group reported first at the top."""
    rows = db.session.scalars(
        select(Report)
        .options(joinedload(Report.comment).joinedload(Comment.author), joinedload(Report.update))
        .where(Report.status == ReportStatus.OPEN)
        .order_by(Report.id)
    )
    groups: dict[tuple[str, int], list[Report]] = {}
    for report in rows.unique():
        groups.setdefault((report.target_type, report.target_id), []).append(report)
    return [
        Group(reports[0].project, reports, reports[0].comment, reports[0].update)
        for reports in groups.values()
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
        _log(project.id, moderator, "dismiss_reports", note)
    if decided:
        events.publish(events.ReportsDecided(tuple(decided)))
    return decided


def _log(project_id: int, moderator: User, action: str, reason: str) -> None:
    """A moderator's decision in the project's audit log."""
    project = db.session.get(Project, project_id)
    db.session.add(
        ProjectEvent(
            project_id=project.id,
            actor_id=moderator.id,
            action=action,
            from_status=project.status,
            to_status=project.status,
            reason=reason,
        )
    )
    db.session.flush()


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


def _decide_content(
    target: ReportTarget,
    content: Comment | Update,
    moderator: User,
    act: Callable[[], object] | None,
    note: str,
) -> list[int]:
    """Close every open report of a comment or an update: dismissed (in the project's audit
    log), or acted on by ``act`` (hiding or removing it, which logs itself). Each reporter
    hears of it."""
    if act is not None:
        act()
    status = ReportStatus.ACTED_ON if act is not None else ReportStatus.DISMISSED
    decided = _close(target, content.id, moderator, status, note)
    if decided and act is None:
        action = f"dismiss_{target.value}_reports"
        _log(content.project_id, moderator, action, f"#{content.id}: {note}")
    if decided:
        events.publish(events.ReportsDecided(tuple(decided)))
    return decided


def decide_comment(comment: Comment, moderator: User, hide: bool, note: str) -> list[int]:
    """The comment's reports: dismissed, or acted on by hiding it with the note as reason."""
    act = (lambda: comments.hide(comment, moderator, HiddenBy.MODERATOR, note)) if hide else None
    return _decide_content(ReportTarget.COMMENT, comment, moderator, act, note)


def decide_update(update_: Update, moderator: User, remove: bool, note: str) -> list[int]:
    """The update's reports: dismissed, or acted on by removing it with the note as reason
    (kept for moderators, in the project's audit log)."""
    act = (lambda: remove_update(update_, moderator, note)) if remove else None
    return _decide_content(ReportTarget.UPDATE, update_, moderator, act, note)


def remove_update(update_: Update, moderator: User, note: str) -> None:
    if updates.remove(update_, moderator.id, note):
        _log(update_.project_id, moderator, "remove_update", f"#{update_.number}: {note}")


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
