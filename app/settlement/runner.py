"""Settling due projects: claim, decide, refund concurrently or pay out, resume after faults.

Each project is worked under a lease (``services.claim``), so two schedulers, or a scheduler
and a CLI run, never settle one project at the same time; a crashed run's lease expires and
the next sweep resumes exactly where it stopped: every step is recorded before and after its
Stripe call, and every call carries the idempotency key stored on its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import current_app

from app import clock
from app.extensions import db
from app.payments import gateway
from app.payments.gateway import CardError, GatewayError
from app.pledges import checkout
from app.projects.models import Project
from app.settlement import services
from app.settlement.domain import is_funded, split

log = logging.getLogger(__name__)


@dataclass
class Report:
    project_id: int
    title: str
    outcome: str
    refunds_planned: int = 0
    refunds_made: int = 0
    payout: str = ""
    settled: bool = False
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, int, int], None]  # (project id, refunds done, refunds to make)


def settle_due(
    project_id: int | None = None, dry_run: bool = False, progress: Progress | None = None
) -> list[Report]:
    """Settle every due project (or one); returns what happened to each."""
    now = clock.now()
    ids = services.due_projects(now, project_id)
    db.session.commit()
    reports = []
    for pid in ids:
        if dry_run:
            reports.append(preview(pid))
            continue
        if not services.claim(pid, clock.now()):
            db.session.rollback()
            continue  # another process is on it
        db.session.commit()
        try:
            reports.append(settle_one(pid, progress))
        finally:
            db.session.rollback()
            services.release(pid)
            db.session.commit()
    return reports


def preview(project_id: int) -> Report:
    """What settling would do now, changing nothing."""
    project = db.session.get(Project, project_id)
    report = Report(project_id, project.title, project.status.value)
    if project.status.value in ("live", "settling"):
        funded = is_funded(project.pledged_amount, project.goal_amount)
        report.outcome = "would be funded" if funded else "would fail"
        if funded:
            parts = split(project.pledged_amount, current_app.config["PLATFORM_FEE_PERCENT"])
            report.payout = f"fee {parts.fee}, payout {parts.payout} {project.currency}"
        else:
            report.refunds_planned = project.backer_count
    db.session.rollback()
    return report


def settle_one(project_id: int, progress: Progress | None = None) -> Report:
    now = clock.now()
    project = db.session.get(Project, project_id)
    services.close_if_due(project, now)
    planned = services.plan_refunds(project)
    report = Report(project_id, project.title, project.status.value, refunds_planned=planned)
    db.session.commit()

    report.refunds_made = run_refunds(project_id, progress)
    project = db.session.get(Project, project_id)
    if project.status.value == "funded":
        report.payout = pay_out(project_id)
    project = db.session.get(Project, project_id)
    report.settled = services.mark_settled_if_done(project, clock.now())
    report.outcome = project.status.value
    db.session.commit()
    return report


def run_refunds(project_id: int, progress: Progress | None = None, batch: int = 500) -> int:
    """Make the project's pending refunds through a bounded pool, within the rate limit."""
    app = current_app._get_current_object()
    workers = current_app.config["SETTLEMENT_WORKERS"]
    done = 0

    def refund(refund_id: int) -> None:
        with app.app_context():
            try:
                checkout.execute_refund(refund_id)
            finally:
                db.session.remove()

    total = services.count_pending_refunds(project_id)
    while True:
        ids = services.pending_refund_ids(project_id, limit=batch)
        services.renew(project_id, clock.now())
        db.session.commit()
        if not ids:
            return done
        before = len(ids)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(refund, ids):
                done += 1
                if progress:
                    progress(project_id, min(done, total), total)
        still = services.pending_refund_ids(project_id, limit=batch)
        db.session.commit()
        if len(still) >= before and set(still) >= set(ids):
            return done  # nothing moved (Stripe unreachable): the next sweep retries


def pay_out(project_id: int) -> str:
    """One transfer to the creator; pending while onboarding or the balance are not ready."""
    project = db.session.get(Project, project_id)
    payout = services.payout_of(project_id)
    if payout is None or payout.status.value == "succeeded":
        db.session.commit()
        return "paid" if payout else ""
    destination = services.payout_destination(project)
    # A refused transfer is stored by Stripe under its key, so each definitive refusal moves
    # to a fresh key; a timeout keeps the key, since that transfer may have happened.
    params = dict(
        amount=payout.net,
        currency=payout.currency,
        destination=destination,
        transfer_group=f"project-{project_id}",
        metadata={"project_id": str(project_id), "payout_id": str(payout.id)},
        key=f"{payout.idempotency_key}-a{payout.attempts}",
    )
    payout_id, net, currency = payout.id, payout.net, payout.currency
    db.session.commit()
    if destination is None:
        services.payout_postponed(payout_id, "The creator has not finished Stripe onboarding.")
        db.session.commit()
        return "pending: creator onboarding"
    if net == 0:
        services.payout_succeeded(payout_id, "none", clock.now())
        db.session.commit()
        return "paid (nothing to transfer)"
    try:
        available = gateway().available_balance(currency)
        if available < net:
            services.payout_postponed(
                payout_id,
                f"The platform's Stripe balance is not yet available ({available} of {net}).",
            )
            db.session.commit()
            return "pending: balance not yet available"
        transfer = gateway().create_transfer(**params)
    except CardError as error:
        db.session.rollback()
        services.payout_postponed(payout_id, error.message, refused=True)
        db.session.commit()
        return f"pending: {error.code or error.message}"
    except GatewayError as error:
        db.session.rollback()
        services.payout_postponed(payout_id, error.message)
        db.session.commit()
        log.info("project %s: payout postponed: %s", project_id, error.message)
        return f"pending: {error.code or error.message}"
    services.payout_succeeded(payout_id, transfer.id, clock.now())
    db.session.commit()
    return f"paid: {transfer.id}"
