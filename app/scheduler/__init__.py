"""The background jobs, run by APScheduler in their own process (`flask scheduler run`).

Never started from the app factory: web workers, the reloader and tests all call it.
Every job is idempotent, so a missed or repeated run is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app

from app import clock
from app.extensions import db

log = logging.getLogger(__name__)


def in_app(app: Flask, job: Callable[[], object]) -> Callable[[], None]:
    """Run a job inside an app context with its own session, logging and swallowing errors."""

    def run() -> None:
        with app.app_context():
            try:
                job()
            except Exception:  # a failed run must not stop the scheduler; the next one retries
                log.exception("scheduled job %s failed", getattr(job, "__name__", job))
                db.session.rollback()
            finally:
                db.session.remove()

    return run


def sweep_pledges() -> None:
    from app.pledges import checkout

    expired = checkout.sweep_expired_payments()
    refunds = checkout.resume_refunds()
    reread = checkout.recheck_open_payments() + checkout.recheck_processing_refunds()
    fees = checkout.read_processing_fees()
    if expired or refunds or reread or fees:
        log.info(
            "pledge sweep: %s expired payments closed, %s refunds retried, %s re-read at "
            "Stripe, %s processing fees read",
            expired,
            refunds,
            reread,
            fees,
        )


def settle_projects() -> None:
    from app.settlement import runner

    for report in runner.settle_due():
        log.info(
            "settlement: project %s %s (refunds %s, payout %s, settled %s)",
            report.project_id,
            report.outcome,
            report.refunds_made,
            report.payout or "-",
            report.settled,
        )


PURGE_EVERY = timedelta(days=1)
_purged_at: datetime | None = None  # in this process only: a restart purges again, harmlessly


def send_notifications() -> None:
    """Send the outbox; at most once a day, also purge old sent rows (every job here runs
    every interval, and the purge is not worth a scan a minute)."""
    global _purged_at
    from app.notifications import comments, digests, reminders, sender

    digests.write_due(clock.now())  # at most one a day per creator, however often run
    reminders.write_due(clock.now())  # once per follower of a project near its deadline
    comments.write_due_digests(clock.now())
    from app.surveys import services as surveys

    surveys.write_due_reminders(clock.now())  # 2 and 7 days after a survey, once each
    db.session.commit()
    sender.send_pending()
    now = clock.now()
    if _purged_at is None or now - _purged_at >= PURGE_EVERY:
        sender.purge_sent(current_app.config["OUTBOX_KEEP_DAYS"])
        _purged_at = now  # only once it worked: a failed purge is tried again next run


def reconcile_projects() -> None:
    from app.audit import scheduled

    if checked := scheduled.reconcile_due():
        log.info("reconciliation: %s ended project(s) checked against Stripe", checked)


JOBS = (
    (sweep_pledges, "pledges-sweep", "expire payments, resume refunds, read fees"),
    (settle_projects, "settlement", "settle projects past their deadline"),
    (reconcile_projects, "reconciliation", "check ended projects against Stripe, 30-daily"),
    (
        send_notifications,
        "notifications-send",
        "write digests and reminders, send notification e-mails, purge old ones",
    ),
)


def build(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    interval = app.config["SCHEDULER_INTERVAL_SECONDS"]
    for job, job_id, name in JOBS:
        scheduler.add_job(in_app(app, job), "interval", seconds=interval, id=job_id, name=name)
    return scheduler
