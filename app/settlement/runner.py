"""Settling due projects: claim, decide, refund concurrently or pay out, resume after faults.

Each project is worked under a lease (``services.claim``), so two schedulers, or a scheduler
and a CLI run, never settle one project at the same time; a crashed run's lease expires and
the next sweep resumes exactly where it stopped: every step is recorded before and after its
Stripe call, and every call carries the idempotency key stored on its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from flask import current_app

from app import clock, money
from app.extensions import db
from app.i18n import N_
from app.payments import gateway
from app.payments.gateway import CardError, GatewayError
from app.payouts.models import PayoutStatus
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.checkout import RefundOutcome
from app.pledges.services import fees
from app.projects.models import Project, ProjectStatus
from app.settlement import services
from app.settlement.domain import is_funded, split
from app.workflow import transaction

log = logging.getLogger(__name__)

# Stored on the payout and shown to its creator in their language (the platform's own balance
# figures go to the log only: they are not the creator's business).
BALANCE_NOT_YET_AVAILABLE = N_(
    "The money is not yet available to transfer at Stripe: card payments become available a "
    "few days after they are made. The payout goes out by itself as soon as they are."
)
FEES_NOT_YET_READ = N_(
    "Stripe's processing fees of some payments are not read yet; the payout, which deducts "
    "them, goes out as soon as they are."
)
T = TypeVar("T")


class PayoutState(StrEnum):
    PAID = "paid"
    PENDING = "pending"  # a later sweep tries again; the detail says what it waits for


@dataclass(frozen=True)
class PayoutOutcome:
    """What became of the payout this run: paid (with the transfer) or pending (and why)."""

    state: PayoutState
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.state}: {self.detail}" if self.detail else str(self.state)


def _pending(detail: str) -> PayoutOutcome:
    return PayoutOutcome(PayoutState.PENDING, detail)


def _paid(detail: str = "") -> PayoutOutcome:
    return PayoutOutcome(PayoutState.PAID, detail)


@dataclass
class Report:
    project_id: int
    title: str
    outcome: str
    refunds_planned: int = 0
    refunds_made: int = 0
    payout: PayoutOutcome | None = None
    would_pay: str = ""  # a dry run: the fee and payout settling would make
    settled: bool = False
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, int, int], None]  # (project id, refunds done, refunds to make)


def settle_due(
    project_id: int | None = None, dry_run: bool = False, progress: Progress | None = None
) -> list[Report]:
    """Settle every due project (or one); returns what happened to each."""
    with transaction():
        ids = services.due_projects(clock.now(), project_id)
    reports = []
    for pid in ids:
        if dry_run:
            reports.append(preview(pid))
            continue
        with transaction():
            claimed = services.claim(pid, clock.now())
        if not claimed:
            continue  # another process is on it
        try:
            reports.append(settle_one(pid, progress))
        except Exception:  # one project's trouble must not hold back the others
            log.exception("project %s: settlement interrupted; the next run resumes", pid)
            reports.append(Report(pid, "", "interrupted", notes=["see the log"]))
        finally:
            db.session.rollback()
            with transaction():
                services.release(pid)
    return reports


def preview(project_id: int) -> Report:
    """What settling would do now, changing nothing."""
    project = db.session.get(Project, project_id)
    report = Report(project_id, project.title, project.status.value)
    if project.status in (ProjectStatus.LIVE, ProjectStatus.SETTLING):
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
            payout = parts.payout
            if current_app.config["PROCESSING_FEES_PAID_BY"] == "creator":
                share = fees.creator_share(project_id)  # the fees read so far
                if share is None:
                    report.notes.append("some processing fees are not read yet")
                payout -= min(share or 0, payout)
            report.would_pay = f"fee {parts.fee}, payout {payout} {project.currency}"
        else:
            report.refunds_planned = project.backer_count
    db.session.rollback()
    return report


def settle_one(project_id: int, progress: Progress | None = None) -> Report:
    """Close the project, plan and make its refunds, pay out if funded, mark it settled once
    nothing is left to do; each part commits, so a crash resumes where it stopped."""
    with transaction():
        project = db.session.get(Project, project_id)
        services.close_if_due(project, clock.now())
        planned = services.plan_refunds(project)
        report = Report(project_id, project.title, project.status.value, refunds_planned=planned)
        if project.settlement_hold:
            report.notes.append(f"held for an admin, the books disagree: {project.settlement_hold}")
            log.error("project %s: not settled, books disagree: %s", project_id,
                      project.settlement_hold)  # fmt: skip

    report.refunds_made = run_refunds(project_id, progress)
    with transaction():
        funded = db.session.get(Project, project_id).status is ProjectStatus.FUNDED
        # Not while a held pledge's money still moves (a change's payment open, a reduction
        # being refunded or its refund refused): its collected total would differ from the
        # payout's. These resolve within a reservation, a sweep, or by an admin.
        moving = funded and services.held_money_moving(project_id)
    if moving:
        report.payout = _pending("a pledge change is still under way")
    elif funded:
        report.payout = pay_out(project_id)
    with transaction():
        project = db.session.get(Project, project_id)
        report.settled = services.mark_settled_if_done(project, clock.now())
        report.outcome = project.status.value
    return report


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
            with transaction():
                rows = services.pending_refund_calls(project_id, batch)
                calls = [checkout.RefundCall(*row) for row in rows]
                services.renew(project_id, clock.now())
            if not calls:
                return done
            moved = 0
            futures = [pool.submit(checkout.call_refund, gw, call) for call in calls]
            for answers in _batches(as_completed(futures), record_every):
                with transaction():  # the answers, kept a batch at a time
                    succeeded: list[tuple[int, str]] = []
                    for future in answers:
                        answer = future.result()
                        moved += answer.outcome is not RefundOutcome.RETRY
                        if answer.outcome is RefundOutcome.SUCCEEDED:  # booked set-based
                            succeeded.append((answer.call.refund_id, answer.detail))
                        else:
                            checkout.record_refund_answer(answer)
                    pledge_services.record_refunds_succeeded(succeeded)
                done += len(answers)
                if progress:
                    progress(project_id, min(done, total), total)
            if not moved:
                return done  # Stripe is not answering: the next sweep retries


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def pay_out(project_id: int) -> PayoutOutcome | None:
    """One transfer to the creator; pending while onboarding or the balance are not ready."""
    with transaction():
        payout = services.payout_of(project_id)
        if payout is None or payout.status is PayoutStatus.SUCCEEDED:
            return _paid() if payout else None
        project = db.session.get(Project, project_id)
        destination = services.payout_destination(project)
        # A refused transfer is stored by Stripe under its key, so each definitive refusal
        # moves to a fresh key; a timeout keeps the key, since that transfer may have happened.
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
    if destination is None:  # a transfer in doubt stays in doubt until it can be replayed
        with transaction():
            services.payout_postponed(
                payout_id, "The creator has not finished Stripe onboarding.", in_doubt=in_doubt
            )
        return _pending("creator onboarding")
    if not in_doubt:  # the amount is fixed before the first transfer is sent, never after
        share = _processing_fees(project_id)
        if share is None:
            with transaction():
                services.payout_postponed(payout_id, FEES_NOT_YET_READ)
            return _pending("processing fees not yet read")
        with transaction():
            net = services.fix_processing_fee(payout_id, share)
        params["amount"] = net
    if net == 0:
        with transaction():
            services.payout_succeeded(payout_id, "none", clock.now())
        return _paid("nothing to transfer")
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
            log.info("project %s: transfer in doubt, lookup failed: %s", project_id, error.message)
            return _postponed(payout_id, error, in_doubt=True)
        if made:
            with transaction():
                services.payout_succeeded(payout_id, made[0], clock.now())
            return _paid(made[0])
    else:
        # A transfer sent before (its answer lost, or the process killed) is replayed with its
        # key whatever the balance shows: that transfer may itself have used the balance.
        try:
            available = gateway().available_balance(currency)
        except GatewayError as error:
            log.info("project %s: payout postponed: %s", project_id, error.message)
            return _postponed(payout_id, error, refused=isinstance(error, CardError))
        if available < net:
            log.info(
                "project %s: payout waits for Stripe's balance: %s of %s available",
                project_id,
                money.format_money(max(available, 0), currency),
                money.format_money(net, currency),
            )
            with transaction():
                services.payout_postponed(payout_id, BALANCE_NOT_YET_AVAILABLE)
            return _pending("balance not yet available")
    return _transfer(project_id, payout_id, params)


def _processing_fees(project_id: int) -> int | None:
    """The processing fees this payout deducts: 0 when the platform bears them; else read
    from Stripe the fees not read yet, and None while some still are not."""
    if current_app.config["PROCESSING_FEES_PAID_BY"] != "creator":
        return 0
    checkout.read_processing_fees(project_id, limit=1000)
    with transaction():
        return fees.creator_share(project_id)


def _postponed(
    payout_id: int, error: GatewayError, refused: bool = False, in_doubt: bool = False
) -> PayoutOutcome:
    """Record why the payout waits (a refusal moves it to a fresh key; a transfer that may
    have been made stays in doubt) and say so."""
    with transaction():
        services.payout_postponed(payout_id, error.message, refused=refused, in_doubt=in_doubt)
    return _pending(error.code or error.message)


def _transfer(project_id: int, payout_id: int, params: dict) -> PayoutOutcome:
    """Send the transfer, recorded as sent first: from then on it may exist at Stripe."""
    with transaction():
        services.transfer_sent(payout_id)
    try:
        transfer = gateway().create_transfer(**params)
    except CardError as error:
        return _postponed(payout_id, error, refused=True)
    except GatewayError as error:
        log.info("project %s: payout postponed: %s", project_id, error.message)
        return _postponed(payout_id, error, in_doubt=True)
    with transaction():
        services.payout_succeeded(payout_id, transfer.id, clock.now())
    return _paid(transfer.id)
