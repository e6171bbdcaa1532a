"""Which projects search engines are told about."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.projects.domain import ProjectStatus
from app.projects.models import Project

S = ProjectStatus
# Live, and ended the ordinary way (settling, funded, paid out, failed): their pages stay
# worth finding. Cancelled and suspended projects stay reachable by link but are not
# advertised; drafts, projects in review, approved and rejected ones are private.
SITEMAP_STATUSES = (S.LIVE, S.SETTLING, S.FUNDED, S.PAID_OUT, S.FAILED)
# A sitemap file holds at most 50,000 URLs (sitemaps.org); the newest projects are listed.
MAX_SITEMAP_PROJECTS = 49_000


@dataclass(frozen=True)
class SitemapEntry:
    project_id: int
    title: str
    lastmod: datetime | None


def sitemap_projects(limit: int = MAX_SITEMAP_PROJECTS) -> Iterator[SitemapEntry]:
    """The listed projects, oldest first, each with its last change of state."""
    newest = (
        select(Project.id)
        .where(Project.status.in_(SITEMAP_STATUSES))
        .order_by(Project.id.desc())
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        select(Project.id, Project.title, Project.launched_at, Project.ended_at, Project.settled_at)
        .where(Project.id.in_(select(newest.c.id)))
        .order_by(Project.id)
        .execution_options(yield_per=1000)
    )
    for project_id, title, launched, ended, settled in rows:
        moments = [m for m in (launched, ended, settled) if m is not None]
        yield SitemapEntry(project_id, title, max(moments) if moments else None)
