"""Reconciling ended projects with Stripe on a schedule: oldest first, each again after 30
days, a few per run so the calls stay within the rate limit beside everything else.

A check that finds differences is kept with them (the public money page names them, with no
backer's account) and every admin is e-mailed, once per check."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app import clock, events
from app.audit import reconcile
from app.audit.models import Reconciliation
from app.extensions import db
from app.ledger import export
from app.payments.gateway import GatewayError
from app.projects.domain import STATEMENT_STATUSES
from app.projects.models import Project
from app.workflow import transaction

log = logging.getLogger(__name__)

AGAIN_AFTER = timedelta(days=30)


def due(now: datetime, limit: int) -> list[int]:
    """Settled projects never checked, then those last checked 30 days ago or more; the
    longest-waiting first (a never-checked project by when it ended)."""
    last = (
        select(Reconciliation.project_id, func.max(Reconciliation.checked_at).label("at"))
        .group_by(Reconciliation.project_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(Project.id)
            .outerjoin(last, last.c.project_id == Project.id)
            .where(
                Project.status.in_(STATEMENT_STATUSES),
                Project.settled_at.is_not(None),
                (last.c.at.is_(None)) | (last.c.at <= now - AGAIN_AFTER),
            )
            .order_by(last.c.at.is_not(None), last.c.at, Project.ended_at, Project.id)
            .limit(limit)
        )
    )


def record(project_id: int, differences: list[str], now: datetime) -> Reconciliation:
    """Keep one check, with the export's head at this moment; tell the admins of trouble."""
    transactions, head = export.chain_head(project_id)
    check = Reconciliation(
        project_id=project_id,
        checked_at=now,
        ok=not differences,
        differences="\n".join(differences)[:20000],
        transactions=transactions,
        chain_head=head,
    )
    db.session.add(check)
    db.session.flush()
    if differences:
        events.publish(events.ReconciliationDiffers(project_id, check.id, len(differences)))
    return check


def reconcile_due() -> int:
    """Check the projects due now (``RECONCILE_PER_RUN`` of them); how many were checked."""
    with transaction():
        ids = due(clock.now(), current_app.config["RECONCILE_PER_RUN"])
    checked = 0
    for project_id in ids:
        try:
            result = reconcile.reconcile(project_id)
        except GatewayError as error:  # Stripe did not answer: the next run tries again
            db.session.rollback()
            log.warning("project %s: not reconciled: %s", project_id, error.message)
            continue
        with transaction():
            record(project_id, result.differences, clock.now())
        checked += 1
        if not result.ok:
            log.error("project %s: %d difference(s) with Stripe", project_id,
                      len(result.differences))  # fmt: skip
    return checked
