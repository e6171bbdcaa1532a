"""Settling due projects: claim, decide, refund concurrently or pay out, resume after faults.

Each project is worked under a lease (``services.claim``), so two schedulers, or a scheduler
and a CLI run, never settle one project at the same time; a crashed run's lease expires and
the next sweep resumes exactly where it stopped: every step is recorded before and after its
Stripe call, and every call carries the idempotency key stored on its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from flask import current_app

from app import clock, money
from app.extensions import db
from app.payments import gateway
from app.payments.gateway import CardError, GatewayError
from app.pledges import services as pledge_services
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
        except Exception:  # one project's trouble must not hold back the others
            log.exception("project %s: settlement interrupted; the next run resumes", pid)
            reports.append(Report(pid, "", "interrupted", notes=["see the log"]))
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
        if problems := services.books_disagree(project):
            report.outcome = "would be held: the books disagree"
            report.notes.extend(problems)
            db.session.rollback()
            return report
        total, _ = services.held_total(project_id)
        funded = is_funded(total, project.goal_amount)
        report.outcome = "would be funded" if funded else "would fail"
        if funded:
            parts = split(total, current_app.config["PLATFORM_FEE_PERCENT"])
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
    if project.settlement_hold:
        report.notes.append(f"held for an admin, the books disagree: {project.settlement_hold}")
        log.error("project %s: not settled, books disagree: %s", project_id,
                  project.settlement_hold)  # fmt: skip
    db.session.commit()

    report.refunds_made = run_refunds(project_id, progress)
    project = db.session.get(Project, project_id)
    if project.status.value == "funded":
        # Not while a held pledge's money still moves (a change's payment open, a reduction
        # being refunded or its refund refused): its collected total would differ from the
        # payout's. These resolve within a reservation, a sweep, or by an admin.
        if services.held_money_moving(project_id):
            db.session.commit()
            report.payout = "pending: a pledge change is still under way"
        else:
            report.payout = pay_out(project_id)
    project = db.session.get(Project, project_id)
    report.settled = services.mark_settled_if_done(project, clock.now())
    report.outcome = project.status.value
    db.session.commit()
    return report


@dataclass(frozen=True)
class RefundCall:
    """What one refund needs from Stripe, read before any call is made."""

    refund_id: int
    payment_intent: str
    amount: int
    key: str
    pledge_id: int


def _call_stripe(gw, call: RefundCall) -> tuple[str, RefundCall, str]:
    """In a worker thread: only the Stripe call, no database. (outcome, call, detail)."""
    try:
        result = gw.create_refund(
            payment_intent=call.payment_intent,
            amount=call.amount,
            key=call.key,
            metadata={"refund_id": str(call.refund_id), "pledge_id": str(call.pledge_id)},
        )
    except CardError as error:
        return "refused", call, error.message
    except GatewayError as error:
        return "retry", call, error.message
    if result.status == "failed":
        return "refused", call, result.failure_reason or "refused"
    if result.status in ("pending", "requires_action"):
        return "processing", call, result.id  # booked once Stripe says it succeeded
    return "succeeded", call, result.id


def run_refunds(
    project_id: int, progress: Progress | None = None, batch: int = 2000, record_every: int = 500
) -> int:
    """Make the project's pending refunds: Stripe calls run in a bounded pool (throttled by
    the gateway), while this thread records the answers in batches."""
    gw = gateway()
    total = services.count_pending_refunds(project_id)
    done = 0
    with ThreadPoolExecutor(max_workers=current_app.config["SETTLEMENT_WORKERS"]) as pool:
        while True:
            calls = [RefundCall(*row) for row in services.pending_refund_calls(project_id, batch)]
            services.renew(project_id, clock.now())
            db.session.commit()
            if not calls:
                return done
            succeeded: list[tuple[int, str]] = []
            moved = 0
            futures = [pool.submit(_call_stripe, gw, call) for call in calls]
            for future in as_completed(futures):
                outcome, call, detail = future.result()
                if outcome == "succeeded":
                    succeeded.append((call.refund_id, detail))
                    moved += 1
                elif outcome == "processing":
                    pledge_services.record_refunds_processing([(call.refund_id, detail)])
                    moved += 1
                elif outcome == "refused":
                    pledge_services.refund_refused(call.refund_id, detail)
                    moved += 1
                else:
                    log.warning("refund %s: will retry: %s", call.refund_id, detail)
                    pledge_services.refund_attempt_failed(call.refund_id, detail)
                if len(succeeded) >= record_every:
                    pledge_services.record_refunds_succeeded(succeeded)
                    succeeded.clear()
                    db.session.commit()
                done += 1
                if progress:
                    progress(project_id, min(done, total), total)
            pledge_services.record_refunds_succeeded(succeeded)
            db.session.commit()
            if not moved:
                return done  # Stripe is not answering: the next sweep retries


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
    in_doubt = services.transfer_in_doubt(payout)
    db.session.commit()
    if destination is None:  # a transfer in doubt stays in doubt until it can be replayed
        services.payout_postponed(
            payout_id, "The creator has not finished Stripe onboarding.", in_doubt=in_doubt
        )
        db.session.commit()
        return "pending: creator onboarding"
    if net == 0:
        services.payout_succeeded(payout_id, "none", clock.now())
        db.session.commit()
        return "paid (nothing to transfer)"
    if in_doubt:
        # Stripe keeps an idempotency key for 24 hours only, and past that a replay would make
        # a second transfer: look for the first one, and replay only if Stripe has none.
        try:
            made = [
                t.id
                for t in gateway().list_transfers(f"project-{project_id}")
                if t.metadata.get("payout_id") == str(payout_id)
            ]
        except GatewayError as error:  # any error at all: still in doubt, nothing sent
            services.payout_postponed(payout_id, error.message, in_doubt=True)
            db.session.commit()
            log.info("project %s: transfer in doubt, lookup failed: %s", project_id, error.message)
            return f"pending: {error.code or error.message}"
        if made:
            services.payout_succeeded(payout_id, made[0], clock.now())
            db.session.commit()
            return f"paid: {made[0]}"
    sent = False
    try:
        # A transfer sent before (its answer lost, or the process killed) is replayed with its
        # key whatever the balance shows: that transfer may itself have used the balance.
        if not in_doubt:
            available = gateway().available_balance(currency)
            if available < net:
                services.payout_postponed(
                    payout_id,
                    "The platform's Stripe balance is not yet available: "
                    f"{money.format_money(max(available, 0), currency)} of "
                    f"{money.format_money(net, currency)} so far. Card payments become "
                    "available to transfer a few days after they are made.",
                )
                db.session.commit()
                return "pending: balance not yet available"
        services.transfer_sent(payout_id)
        db.session.commit()
        sent = True
        transfer = gateway().create_transfer(**params)
    except CardError as error:
        db.session.rollback()
        services.payout_postponed(payout_id, error.message, refused=True)
        db.session.commit()
        return f"pending: {error.code or error.message}"
    except GatewayError as error:
        db.session.rollback()
        services.payout_postponed(payout_id, error.message, in_doubt=sent)
        db.session.commit()
        log.info("project %s: payout postponed: %s", project_id, error.message)
        return f"pending: {error.code or error.message}"
    services.payout_succeeded(payout_id, transfer.id, clock.now())
    db.session.commit()
    return f"paid: {transfer.id}"
