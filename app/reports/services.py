"""Reporting a project and deciding reports. Services flush; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app import clock, events
from app.accounts.models import User
from app.extensions import db
from app.i18n import N_
from app.projects import services as projects
from app.projects.models import Project, ProjectEvent
from app.reports.models import Report, ReportReason, ReportStatus


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
            Report.target_type == "project",
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


@dataclass(frozen=True)
class Group:
    """The open reports of one target, for the moderators' queue."""

    project: Project
    reports: list[Report]

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
    return [Group(reports[0].project, reports) for reports in groups.values()]


def decide(project: Project, moderator: User, suspend: bool, note: str) -> list[int]:
    """Close every open report of the project: dismissed, or acted on by suspending it (which
    refunds every backer, as any suspension does). The decision is in the project's audit log
    and each reporter hears of it. Returns the reports decided; none if another moderator
    decided first."""
    if suspend:
        projects.suspend(project, moderator, note)  # refuses unless live; logs itself
    status = ReportStatus.ACTED_ON if suspend else ReportStatus.DISMISSED
    decided = list(
        db.session.scalars(
            update(Report)
            .where(
                Report.target_type == "project",
                Report.target_id == project.id,
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
