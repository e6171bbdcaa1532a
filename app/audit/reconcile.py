"""`flask ledger reconcile`: one project's books against what Stripe reports.

Three sides are compared: what Stripe says (PaymentIntents, their charges and the charges'
balance transactions, which carry the processing fee; refunds; transfers), our rows
(payments with their fees, refunds, the payout) and the ledger. Every difference is one
line of text; an empty list means the three agree.

How Stripe is asked, and why:

- PaymentIntents are retrieved by the ids stored on our payment rows, with their charge
  expanded (one call each). Stripe cannot list PaymentIntents by transfer group, so a
  PaymentIntent made for this project outside the platform is not found here.
- Refunds are listed per PaymentIntent, so refunds made behind our back (in Stripe's
  dashboard, say) are found; the list is asked for only when the charge shows a refund or we
  have one, so a paid-out project costs one call per payment.
- Transfers are listed by the project's transfer group (``project-<id>``).

The database is read in batches of payments, each batch in its own short transaction
(``app.workflow.transaction``), ended before Stripe is called (the gateway refuses to call
with a transaction open); the calls of a batch run on a small thread pool within the
gateway's rate limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.ledger import services as ledger
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.money import format_money
from app.payments import gateway
from app.payments.gateway import (
    Charge,
    GatewayError,
    Intent,
    RefundResult,
    StripeGateway,
    TransferRecord,
)
from app.payouts.models import ConnectedAccount, Payout, PayoutStatus
from app.pledges.models import Payment, PaymentStatus, Pledge, Refund, RefundStatus
from app.projects.models import Project
from app.workflow import transaction

BATCH = 500
# Stripe refund states in which the money has left (or is leaving) the platform.
REFUND_MOVED = frozenset({"succeeded", "pending", "requires_action"})


class UnknownProject(LookupError):
    """No project with that id."""


@dataclass
class Reconciliation:
    project_id: int
    differences: list[str] = field(default_factory=list)
    charges: int = 0  # PaymentIntents retrieved from Stripe
    refunds: int = 0  # refunds Stripe listed
    transfers: int = 0  # transfers Stripe listed
    ledger_transactions: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        return (
            f"Project {self.project_id} reconciled: {self.charges} payment intent(s), "
            f"{self.refunds} refund(s) and {self.transfers} transfer(s) at Stripe agree with "
            f"our rows and {self.ledger_transactions} ledger transaction(s)."
        )


# ---- what we read from the database ---------------------------------------------------------


@dataclass(frozen=True)
class _Payment:
    id: int
    pledge_id: int
    backer_id: int
    amount: int
    currency: str
    status: PaymentStatus
    intent_id: str | None
    charge_id: str | None
    processing_fee: int | None


@dataclass(frozen=True)
class _Refund:
    id: int
    payment_id: int
    amount: int
    status: RefundStatus
    stripe_id: str | None


@dataclass(frozen=True)
class _Txn:
    id: int
    kind: str
    source: str
    project_id: int
    currency: str
    entries: tuple[tuple[str, int], ...]  # (account, amount), sorted


@dataclass(frozen=True)
class _Fetched:
    """What Stripe says about one payment."""

    intent: Intent | None  # None: Stripe has no such PaymentIntent
    charge: Charge | None = None
    refunds: tuple[RefundResult, ...] | None = None  # None: not asked (nothing refunded)


class _Report:
    """Collects the differences with the project's currency at hand for amounts."""

    def __init__(self, result: Reconciliation, currency: str) -> None:
        self.result = result
        self.currency = currency

    def money(self, amount: int) -> str:
        return format_money(amount, self.currency)

    def add(self, line: str) -> None:
        self.result.differences.append(line)


def reconcile(project_id: int, workers: int | None = None) -> Reconciliation:
    """Compare one project's ledger and rows with Stripe; the differences, one per line."""
    with transaction():  # read what the comparison needs; nothing stays open
        project = db.session.get(Project, project_id)
        if project is None:
            raise UnknownProject(f"There is no project {project_id}.")
        currency, owner_id = project.currency, project.owner_id

    result = Reconciliation(project_id)
    report = _Report(result, currency)
    stripe = gateway()
    workers = workers or current_app.config["SETTLEMENT_WORKERS"]
    matched: set[int] = set()  # ledger transactions explained by one of our rows

    after = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while True:
            with transaction():  # one batch read; no transaction open while Stripe is asked
                payments = _payments_after(project_id, after)
                refunds = _refunds_of([p.id for p in payments])
                txns = _transactions(
                    [f"payment:{p.id}" for p in payments]
                    + [f"processing-fee:payment:{p.id}" for p in payments]
                    + [f"refund:{r.id}" for rs in refunds.values() for r in rs]
                )
            if not payments:
                break
            after = payments[-1].id

            fetched = list(
                pool.map(
                    _fetch, repeat(stripe), payments, [refunds.get(p.id, []) for p in payments]
                )
            )
            for payment, answer in zip(payments, fetched, strict=True):
                mine = refunds.get(payment.id, [])
                _compare_payment(report, project_id, payment, answer, txns, matched)
                _compare_refunds(report, project_id, payment, mine, answer, txns, matched)

    _compare_payout(report, stripe, project_id, owner_id, matched)
    _unexplained_transactions(report, project_id, matched)
    return result


# ---- reading ------------------------------------------------------------------------------


def _payments_after(project_id: int, after: int) -> list[_Payment]:
    rows = db.session.execute(
        select(
            Payment.id,
            Payment.pledge_id,
            Pledge.backer_id,
            Payment.amount,
            Payment.currency,
            Payment.status,
            Payment.stripe_payment_intent_id,
            Payment.stripe_charge_id,
            Payment.processing_fee,
        )
        .join(Pledge, Pledge.id == Payment.pledge_id)
        .where(Pledge.project_id == project_id, Payment.id > after)
        .order_by(Payment.id)
        .limit(BATCH)
    )
    return [_Payment(*row) for row in rows]


def _refunds_of(payment_ids: list[int]) -> dict[int, list[_Refund]]:
    rows = db.session.execute(
        select(Refund.id, Refund.payment_id, Refund.amount, Refund.status, Refund.stripe_refund_id)
        .where(Refund.payment_id.in_(payment_ids))
        .order_by(Refund.id)
    )
    result: dict[int, list[_Refund]] = {}
    for row in rows:
        refund = _Refund(*row)
        result.setdefault(refund.payment_id, []).append(refund)
    return result


def _transactions(sources: list[str]) -> dict[str, _Txn]:
    """Ledger transactions by source, with their entries."""
    found: dict[str, _Txn] = {}
    for start in range(0, len(sources), BATCH):
        chunk = sources[start : start + BATCH]
        txns = db.session.execute(
            select(
                LedgerTransaction.id,
                LedgerTransaction.kind,
                LedgerTransaction.source,
                LedgerTransaction.project_id,
                LedgerTransaction.currency,
            ).where(LedgerTransaction.source.in_(chunk))
        ).all()
        entries: dict[int, list[tuple[str, int]]] = {}
        if txns:
            for txn_id, account, amount in db.session.execute(
                select(LedgerEntry.transaction_id, LedgerEntry.account, LedgerEntry.amount).where(
                    LedgerEntry.transaction_id.in_([t.id for t in txns])
                )
            ):
                entries.setdefault(txn_id, []).append((account, amount))
        for t in txns:
            found[t.source] = _Txn(
                t.id,
                t.kind,
                t.source,
                t.project_id,
                t.currency,
                tuple(sorted(entries.get(t.id, []))),
            )
    return found


# ---- asking Stripe ------------------------------------------------------------------------


def _fetch(stripe: StripeGateway, payment: _Payment, refunds: list[_Refund]) -> _Fetched | None:
    """Stripe's view of one payment (runs on the pool: Stripe only, no database)."""
    if not payment.intent_id:
        return None
    try:
        intent, charge = stripe.retrieve_payment_intent_with_charge(payment.intent_id)
    except GatewayError as error:
        if error.status == 404:
            return _Fetched(intent=None)
        raise
    asked = (charge is not None and charge.amount_refunded > 0) or any(
        r.stripe_id or r.status is RefundStatus.SUCCEEDED for r in refunds
    )
    listed = tuple(stripe.list_refunds(payment.intent_id)) if asked else None
    return _Fetched(intent=intent, charge=charge, refunds=listed)


# ---- comparing ----------------------------------------------------------------------------


def _expect_txn(
    report: _Report,
    project_id: int,
    what: str,
    source: str,
    kind: str,
    moves: tuple[str, str, int] | None,
    txns: dict[str, _Txn],
    matched: set[int],
) -> None:
    """The ledger has exactly ``moves`` (from, to, amount) under ``source``, or nothing."""
    txn = txns.get(source)
    if txn is not None:
        matched.add(txn.id)
    if moves is None:
        if txn is not None:
            report.add(
                f"ledger transaction {txn.id} ({source}) books {what}, which did not happen: "
                f"{_describe(txn, report)}"
            )
        return
    from_account, to_account, amount = moves
    if txn is None:
        report.add(
            f"{what}: {report.money(amount)} from {from_account} to {to_account} "
            f"is missing from the ledger ({source})"
        )
        return
    expected = tuple(sorted([(from_account, -amount), (to_account, amount)]))
    if txn.entries != expected or txn.kind != kind or txn.project_id != project_id:
        report.add(
            f"ledger transaction {txn.id} ({source}) books {_describe(txn, report)}, "
            f"but {what} is a {kind} of {report.money(amount)} from {from_account} to "
            f"{to_account} on project {project_id}"
        )


def _describe(txn: _Txn, report: _Report) -> str:
    moves = ", ".join(f"{account} {report.money(amount)}" for account, amount in txn.entries)
    return f"{txn.kind} on project {txn.project_id} [{moves}]"


def _compare_payment(
    report: _Report,
    project_id: int,
    payment: _Payment,
    answer: _Fetched | None,
    txns: dict[str, _Txn],
    matched: set[int],
) -> None:
    what = f"payment {payment.id} (pledge {payment.pledge_id})"
    succeeded = payment.status is PaymentStatus.SUCCEEDED
    moves = (
        (ledger.backer(payment.backer_id), ledger.escrow(project_id), payment.amount)
        if succeeded
        else None
    )
    _expect_txn(report, project_id, what, f"payment:{payment.id}", "charge", moves, txns, matched)
    fee = payment.processing_fee
    _expect_txn(
        report,
        project_id,
        f"the processing fee of {what}",
        f"processing-fee:payment:{payment.id}",
        "processing_fee",
        (ledger.PLATFORM_PROCESSING, ledger.STRIPE_FEES, fee) if succeeded and fee else None,
        txns,
        matched,
    )

    if answer is None:  # no PaymentIntent id on our row
        if succeeded:
            report.add(f"{what} is booked as succeeded but has no Stripe PaymentIntent id")
        return
    intent_id = payment.intent_id
    report.result.charges += 1
    if answer.intent is None:
        report.add(f"{what}: Stripe has no PaymentIntent {intent_id}")
        return
    intent, charge = answer.intent, answer.charge
    stripe_charged = (
        intent.status == "succeeded" and charge is not None and (charge.status == "succeeded")
    )
    if stripe_charged and not succeeded:
        report.add(
            f"Stripe charged {report.money(charge.amount)} on {intent_id} ({charge.id}) for "
            f"{what}, but we have the payment as {payment.status.value}, not in the ledger"
        )
        return
    if succeeded and not stripe_charged:
        report.add(
            f"{what} is booked as succeeded, but Stripe's {intent_id} is {intent.status}"
            + (f" and its charge {charge.id} is {charge.status}" if charge else " with no charge")
        )
        return
    if not succeeded:
        return
    if intent.currency.upper() != payment.currency.upper():
        report.add(
            f"{what}: Stripe's {intent_id} is in {intent.currency.upper()}, "
            f"our payment row says {payment.currency}"
        )
    if charge.amount != payment.amount:
        report.add(
            f"{what}: Stripe charged {report.money(charge.amount)} on {intent_id} "
            f"({charge.id}), our payment row says {report.money(payment.amount)}"
        )
    if payment.charge_id and payment.charge_id != charge.id:
        report.add(
            f"{what}: Stripe's charge of {intent_id} is {charge.id}, "
            f"our payment row says {payment.charge_id}"
        )
    if charge.fee is not None and charge.fee != payment.processing_fee:
        ours = "not read yet" if fee is None else report.money(fee)
        report.add(
            f"{what}: Stripe kept a processing fee of {report.money(charge.fee)} on "
            f"{charge.id}, our payment row says {ours}"
        )


def _compare_refunds(
    report: _Report,
    project_id: int,
    payment: _Payment,
    mine: list[_Refund],
    answer: _Fetched | None,
    txns: dict[str, _Txn],
    matched: set[int],
) -> None:
    for refund in mine:
        what = f"refund {refund.id} of payment {payment.id} (pledge {payment.pledge_id})"
        moves = (
            (ledger.escrow(project_id), ledger.backer(payment.backer_id), refund.amount)
            if refund.status is RefundStatus.SUCCEEDED
            else None
        )
        _expect_txn(report, project_id, what, f"refund:{refund.id}", "refund", moves, txns, matched)

    if answer is None or answer.intent is None:
        for refund in mine:
            if refund.status is RefundStatus.SUCCEEDED:
                report.add(
                    f"refund {refund.id} ({refund.stripe_id or 'no Stripe id'}) of "
                    f"{report.money(refund.amount)} is booked, but Stripe has no PaymentIntent "
                    f"for payment {payment.id}"
                )
        return
    listed = answer.refunds or ()
    report.result.refunds += len(listed)
    by_stripe_id = {r.stripe_id: r for r in mine if r.stripe_id}
    by_row_id = {str(r.id): r for r in mine}
    for theirs in listed:
        ours = by_stripe_id.get(theirs.id)
        if ours is None:
            _a_stripe_refund_we_do_not_have(report, payment, theirs, by_row_id)
        else:
            _a_stripe_refund_agrees_with_ours(report, theirs, ours)
    _our_booked_refunds_are_at_stripe(report, payment, mine, {r.id for r in listed})


def _a_stripe_refund_we_do_not_have(
    report: _Report, payment: _Payment, theirs: RefundResult, by_row_id: dict[str, _Refund]
) -> None:
    """Money Stripe moved that no refund row of ours knows by its Stripe id: one we asked for
    whose answer was lost, or one made behind our back (in Stripe's dashboard, say)."""
    if theirs.status not in REFUND_MOVED:
        return
    claimed = by_row_id.get(theirs.metadata.get("refund_id", ""))
    if claimed is not None and not claimed.stripe_id:
        report.add(
            f"Stripe made refund {theirs.id} of {report.money(theirs.amount)} on "
            f"{payment.intent_id} for refund {claimed.id}, which we have as "
            f"{claimed.status.value} and not in the ledger"
        )
    else:
        report.add(
            f"Stripe refund {theirs.id} of {report.money(theirs.amount)} on "
            f"{payment.intent_id} (payment {payment.id}, pledge {payment.pledge_id}) "
            f"is not in our books"
        )


def _a_stripe_refund_agrees_with_ours(report: _Report, theirs: RefundResult, ours: _Refund) -> None:
    """Same state (pending at Stripe is processing here; moved is booked) and same amount."""
    moved = theirs.status in REFUND_MOVED  # the money left Stripe, or is leaving it
    booked = ours.status is RefundStatus.SUCCEEDED
    if theirs.status != "succeeded" and moved:
        differs = ours.status is not RefundStatus.PROCESSING  # pending at Stripe: we wait too
    else:
        differs = moved != booked
    if differs and moved:
        report.add(
            f"Stripe refund {theirs.id} of {report.money(theirs.amount)} is "
            f"{theirs.status}, but we have refund {ours.id} as {ours.status.value}"
        )
    elif differs:
        report.add(
            f"refund {ours.id} ({theirs.id}) is booked as succeeded, but Stripe has it "
            f"{theirs.status}"
        )
    if theirs.amount != ours.amount:
        report.add(
            f"refund {ours.id} ({theirs.id}): Stripe refunded "
            f"{report.money(theirs.amount)}, our refund row says {report.money(ours.amount)}"
        )


def _our_booked_refunds_are_at_stripe(
    report: _Report, payment: _Payment, mine: list[_Refund], listed: set[str]
) -> None:
    for ours in mine:
        if ours.status is not RefundStatus.SUCCEEDED or ours.stripe_id in listed:
            continue
        if ours.stripe_id:
            report.add(
                f"refund {ours.id} ({ours.stripe_id}) of {report.money(ours.amount)} is booked, "
                f"but Stripe lists no such refund on {payment.intent_id}"
            )
        else:
            report.add(
                f"refund {ours.id} of {report.money(ours.amount)} is booked as succeeded "
                f"without a Stripe refund id"
            )


def _compare_payout(
    report: _Report, stripe: StripeGateway, project_id: int, owner_id: int, matched: set[int]
) -> None:
    with transaction():  # read, then nothing open while Stripe is asked
        payout = db.session.scalar(select(Payout).where(Payout.project_id == project_id))
        destination = db.session.scalar(
            select(ConnectedAccount.stripe_account_id).where(ConnectedAccount.user_id == owner_id)
        )
        sources = (
            [f"payout:{payout.id}", f"fee:{payout.id}", f"fee-recovery:{payout.id}"]
            if payout
            else []
        )
        txns = _transactions(sources)
        if payout is not None:
            paid = payout.status is PayoutStatus.SUCCEEDED
            payout_id, net, fee, processing, transfer_id = (
                payout.id,
                payout.net,
                payout.fee,
                payout.processing_fee,
                payout.stripe_transfer_id,
            )

    transfers = stripe.list_transfers(f"project-{project_id}")
    report.result.transfers = len(transfers)
    if payout is None:
        for transfer in transfers:
            _unknown_transfer(report, transfer, project_id)
        return

    what = f"payout {payout_id}"
    escrow = ledger.escrow(project_id)
    _expect_txn(
        report,
        project_id,
        what,
        f"payout:{payout_id}",
        "payout",
        (escrow, ledger.creator(project_id), net) if paid and net else None,
        txns,
        matched,
    )
    _expect_txn(
        report,
        project_id,
        f"the fee of {what}",
        f"fee:{payout_id}",
        "fee",
        (escrow, ledger.PLATFORM_FEES, fee) if paid and fee else None,
        txns,
        matched,
    )
    _expect_txn(
        report,
        project_id,
        f"the processing fees {what} deducts",
        f"fee-recovery:{payout_id}",
        "fee_recovery",
        (escrow, ledger.PLATFORM_PROCESSING, processing) if paid and processing else None,
        txns,
        matched,
    )
    ours = None
    for transfer in transfers:
        if paid and transfer.id == transfer_id:
            ours = transfer
        elif not paid and transfer.metadata.get("payout_id") == str(payout_id):
            report.add(
                f"Stripe transferred {report.money(transfer.amount)} ({transfer.id}) for "
                f"{what}, which we have as pending and not in the ledger"
            )
        else:
            _unknown_transfer(report, transfer, project_id)
    if not paid or not net:
        return
    if ours is None:
        report.add(
            f"{what} is booked as transfer {transfer_id} of {report.money(net)}, but Stripe "
            f"lists no such transfer in transfer group project-{project_id}"
        )
        return
    if ours.amount != net:
        report.add(
            f"{what}: Stripe transferred {report.money(ours.amount)} ({ours.id}), "
            f"our payout row says {report.money(net)}"
        )
    if ours.amount_reversed:
        report.add(
            f"{what}: {report.money(ours.amount_reversed)} of transfer {ours.id} was reversed "
            f"at Stripe, but the ledger still credits the creator {report.money(net)}"
        )
    if destination and ours.destination != destination:
        report.add(
            f"{what}: transfer {ours.id} went to {ours.destination}, but the creator's "
            f"account is {destination}"
        )


def _unknown_transfer(report: _Report, transfer: TransferRecord, project_id: int) -> None:
    report.add(
        f"Stripe transfer {transfer.id} of {report.money(transfer.amount)} to "
        f"{transfer.destination} in transfer group project-{project_id} is not in our books"
    )


def _unexplained_transactions(report: _Report, project_id: int, matched: Iterable[int]) -> None:
    """Ledger transactions of the project that no payment, refund or payout accounts for."""
    matched = set(matched)
    with transaction():  # a read, ended when done
        rows = db.session.execute(
            select(LedgerTransaction.id)
            .where(LedgerTransaction.project_id == project_id)
            .order_by(LedgerTransaction.id)
            .execution_options(yield_per=5000)
        )
        extra: list[int] = []
        count = 0
        for (txn_id,) in rows:
            count += 1
            if txn_id not in matched:
                extra.append(txn_id)
        report.result.ledger_transactions = count
        if extra:
            txns = db.session.scalars(
                select(LedgerTransaction).where(LedgerTransaction.id.in_(extra[:1000]))
            )
            for txn in txns:
                entries = tuple(sorted((e.account, e.amount) for e in txn.entries))
                described = _describe(
                    _Txn(txn.id, txn.kind, txn.source, txn.project_id, txn.currency, entries),
                    report,
                )
                report.add(
                    f"ledger transaction {txn.id} ({txn.source}) matches no payment, refund or "
                    f"payout of project {project_id} at Stripe: {described}"
                )
            if len(extra) > 1000:
                report.add(f"... and {len(extra) - 1000} more unexplained ledger transactions")
