"""Delivering the outbox: claim a batch, send it with no transaction open, mark each row sent.

A batch is claimed with a conditional UPDATE that stamps the rows with this run's token and
a claim deadline (on PostgreSQL the candidate rows are first locked with ``FOR UPDATE SKIP
LOCKED``, so two senders take different rows instead of waiting on each other). Only the
token's holder marks a row sent, so two senders never send one message twice; a sender that
dies leaves its rows claimed until the deadline, then another sends them. A failed send
keeps the row with ``attempts + 1`` and a growing wait before the next try, until it is
given up (``failed``); only an operator puts it back (``retry_failed``). Sent rows are kept
for OUTBOX_KEEP_DAYS, then deleted (``purge_sent``).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from app import clock
from app.accounts.models import User
from app.extensions import db
from app.moves import move
from app.notifications import messages
from app.notifications.models import Outbox, OutboxStatus
from app.workflow import transaction

log = logging.getLogger(__name__)

Status = OutboxStatus
BATCH_SIZE = 100
CLAIM_SECONDS = 600  # a batch is abandoned (its rest released) after half of this
MAX_ATTEMPTS = 12  # about a day of retries with the backoff below
BACKOFF_FIRST_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600
MAIL_FILE = "outbox-mail.log"
PURGE_BATCH_SIZE = 1000  # sent rows deleted per transaction
monotonic = time.monotonic  # how long a batch has taken (tests replace it)

Send = Callable[[EmailMessage], None]


class MessageRefused(Exception):
    """The server refused this one message (a bad recipient, say); others may still go."""


class Backend(Protocol):
    def connect(self) -> AbstractContextManager[Send]:
        """Open the channel; the context gives a function that sends one message."""
        ...


# ---- backends ---------------------------------------------------------------------------


class FileBackend:
    """Appends each message to an mbox file (readable with ``mailbox.mbox``); for local runs."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def connect(self) -> Iterator[Send]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

        def send(message: EmailMessage) -> None:
            policy = message.policy.clone(mangle_from_=True, linesep="\n")
            message.set_unixfrom(f"From backstage {time.asctime(time.gmtime())}")
            text = message.as_string(unixfrom=True, policy=policy).rstrip("\n") + "\n\n"
            os.write(fd, text.encode("utf-8"))  # one append: two senders never interleave

        try:
            yield send
        finally:
            os.close(fd)


class LogBackend:
    """Writes each message to the log (logger ``app.notifications.sender``, level INFO)."""

    @contextmanager
    def connect(self) -> Iterator[Send]:
        def send(message: EmailMessage) -> None:
            log.info("mail to %s\n%s", message["To"], message.as_string())

        yield send


@dataclass
class SmtpBackend:
    """An SMTP server: STARTTLS when ``use_tls``, TLS from the start on port 465."""

    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = True
    timeout: float = 30

    @contextmanager
    def connect(self) -> Iterator[Send]:
        context = ssl.create_default_context()
        if self.port == 465:
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls and self.port != 465:
                server.starttls(context=context)
            if self.username:
                server.login(self.username, self.password)

            def send(message: EmailMessage) -> None:
                try:
                    server.send_message(message)
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as error:
                    raise MessageRefused(str(error)) from error

            yield send
        finally:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()


def backend_from_config() -> Backend:
    """The MAIL_BACKEND setting: "file" (instance/outbox-mail.log), "log" or "smtp"."""
    config = current_app.config
    name = str(config["MAIL_BACKEND"]).strip().lower()
    if name == "file":
        return FileBackend(Path(current_app.instance_path) / MAIL_FILE)
    if name == "log":
        return LogBackend()
    if name == "smtp":
        return SmtpBackend(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            use_tls=bool(config["SMTP_USE_TLS"]),
        )
    raise ValueError(f"MAIL_BACKEND must be file, log or smtp, not {config['MAIL_BACKEND']!r}")


# ---- claiming and recording -------------------------------------------------------------


def _due(row, now: datetime):
    return or_(
        and_(row.status == Status.PENDING, row.next_attempt_at <= now),
        and_(row.status == Status.SENDING, row.claimed_until < now),  # its sender died
    )


def _claimable(now: datetime):
    """Due, and not overtaking an earlier message about the same pledge that is still waiting
    (for its backoff, or for a dead sender's claim to lapse): a backer never reads "your
    refund is complete" before "your refund is on its way". An earlier message that is due
    too goes in the same batch, which is sent in id order; one given up does not block."""
    earlier = aliased(Outbox)
    waiting = (
        select(earlier.id)
        .where(
            earlier.pledge_id == Outbox.pledge_id,
            earlier.id < Outbox.id,
            earlier.status.in_([Status.PENDING, Status.SENDING]),
            ~_due(earlier, now),
        )
        .exists()
    )
    return and_(_due(Outbox, now), or_(Outbox.pledge_id.is_(None), ~waiting))


def drop_for_deleted_accounts() -> int:
    """Delete unsent mail to people who deleted their account (enqueued after they left, by
    a set-based enqueue): it is never sent. How many rows went."""
    gone = select(User.id).where(User.deleted_at.is_not(None))
    return db.session.execute(
        delete(Outbox)
        .where(Outbox.status == Status.PENDING, Outbox.user_id.in_(gone))
        .execution_options(synchronize_session=False)
    ).rowcount


def claim(token: str, now: datetime, limit: int = BATCH_SIZE, seconds: int = CLAIM_SECONDS) -> int:
    """Stamp up to ``limit`` sendable rows with ``token``; how many this sender won."""
    drop_for_deleted_accounts()
    ids = list(
        db.session.scalars(
            select(Outbox.id)
            .where(_claimable(now))
            .order_by(Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers anyway
        )
    )
    if not ids:
        return 0
    return db.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), _claimable(now))  # checked again: another may have won
        .values(
            status=Status.SENDING,
            claim_token=token,
            claimed_until=now + timedelta(seconds=seconds),
        )
        .execution_options(synchronize_session=False)
    ).rowcount


def _held_by(token: str):
    return and_(Outbox.claim_token == token, Outbox.status == Status.SENDING)


def claimed(token: str) -> list[Outbox]:
    return list(db.session.scalars(select(Outbox).where(_held_by(token)).order_by(Outbox.id)))


def mark_sent(row_id: int, token: str, now: datetime) -> bool:
    return move(
        Outbox,
        row_id,
        {Status.SENDING},
        Status.SENT,
        where=[Outbox.claim_token == token],
        sent_at=now,
        claim_token=None,
        claimed_until=None,
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 ... minutes, at most 6 hours."""
    seconds = BACKOFF_FIRST_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_MAX_SECONDS))


def mark_failed(row_id: int, token: str, attempts_before: int, error: str, now: datetime) -> None:
    """Keep the row for a later try, or give up after MAX_ATTEMPTS."""
    attempts = attempts_before + 1
    db.session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, _held_by(token))
        .values(
            status=Status.FAILED if attempts >= MAX_ATTEMPTS else Status.PENDING,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            last_error=error[:1000],
            claim_token=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )


def release(row_ids: list[int], token: str) -> None:
    """Hand unsent rows back untouched (not an attempt): the next run sends them."""
    if row_ids:
        db.session.execute(
            update(Outbox)
            .where(Outbox.id.in_(row_ids), _held_by(token))
            .values(status=Status.PENDING, claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def counts() -> dict[str, int]:
    rows = db.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
    return {status.value: n for status, n in rows}


# ---- the operator's tools ---------------------------------------------------------------


def retry_failed(ids: Collection[int] | None = None) -> list[int]:
    """Put given-up rows (all, or those of ``ids``) back in the queue, due now, with a fresh
    count of attempts; the ids requeued. One conditional UPDATE, no read first: a row that
    is not ``failed`` when it runs (a sender took it, another retry did) is left alone."""
    stmt = update(Outbox).where(Outbox.status == Status.FAILED)
    if ids is not None:
        stmt = stmt.where(Outbox.id.in_(list(ids)))
    requeued = db.session.scalars(
        stmt.values(status=Status.PENDING, attempts=0, next_attempt_at=clock.now())
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(requeued)


def purge_sent(keep_days: int, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete sent rows sent more than ``keep_days`` ago, how many; never pending or failed
    ones. One transaction per batch (committed here), so a huge table is never held in one
    long transaction; each batch starts after the last id, not over the rows just deleted."""
    if keep_days < 1:  # 0 or less would delete what was sent a moment ago
        raise ValueError(f"days to keep sent messages must be at least 1, not {keep_days}")
    cutoff = clock.now() - timedelta(days=keep_days)
    old = and_(Outbox.status == Status.SENT, Outbox.sent_at < cutoff)
    deleted = after = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Outbox.id)
                .where(old, Outbox.id > after)
                .order_by(Outbox.id)
                .limit(batch_size)
            )
        )
        if not ids:
            break
        with transaction():
            deleted += db.session.execute(
                delete(Outbox)
                .where(Outbox.id.in_(ids), old)  # checked again: the rows are read, then deleted
                .execution_options(synchronize_session=False)
            ).rowcount
        after = ids[-1]
    if deleted:
        log.info("notifications: %s sent messages older than %s days purged", deleted, keep_days)
    return deleted


# ---- sending ----------------------------------------------------------------------------


@dataclass
class Report:
    sent: int = 0
    failed: int = 0  # attempts that failed; the rows wait for a later run
    stopped: str = ""  # why the run ended early (the server unreachable, say)


def send_pending(
    backend: Backend | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    claim_seconds: int = CLAIM_SECONDS,
) -> Report:
    """Send what is due, batch after batch, until nothing is left or the server fails."""
    backend = backend or backend_from_config()
    report = Report()
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        token = uuid.uuid4().hex
        with transaction():
            won = claim(token, clock.now(), batch_size, claim_seconds)
        if not won:
            break
        with transaction():  # none stays open while the mail server is talked to
            rows = claimed(token)
            attempts = {row.id: row.attempts for row in rows}
            composed = messages.compose(rows, clock.now())
        if not _deliver(backend, token, composed, attempts, report, claim_seconds):
            break
    if report.sent or report.failed:
        log.info("notifications: %s sent, %s failed %s", report.sent, report.failed, report.stopped)
    return report


def _deliver(
    backend: Backend,
    token: str,
    composed: list[tuple[int, EmailMessage | Exception]],
    attempts: dict[int, int],
    report: Report,
    claim_seconds: int,
) -> bool:
    """Send one claimed batch; False when the run should stop (the server is unreachable)."""
    started = monotonic()
    todo = list(composed)

    def failed(row_ids: list[int], error: BaseException) -> None:
        with transaction():
            for row_id in row_ids:
                mark_failed(
                    row_id, token, attempts[row_id], f"{type(error).__name__}: {error}", clock.now()
                )
        report.failed += len(row_ids)

    def give_back(reason: str) -> None:
        with transaction():
            release([row_id for row_id, _ in todo], token)
        report.stopped = reason

    with ExitStack() as stack:
        try:
            send = stack.enter_context(backend.connect())
        except Exception as error:  # the server is unreachable: every message waits
            log.warning("notifications: cannot reach the mail server: %s", error)
            failed([row_id for row_id, _ in todo], error)
            report.stopped = f"mail server: {error}"
            return False
        while todo:
            if monotonic() - started > claim_seconds / 2:
                give_back("batch too slow")  # released before the claim runs out
                return True
            row_id, message = todo.pop(0)
            if isinstance(message, Exception):
                failed([row_id], message)
                continue
            try:
                send(message)
            except MessageRefused as error:
                failed([row_id], error)
                continue
            except Exception as error:  # the connection broke: the rest wait for the next run
                log.warning("notifications: mail server failed: %s", error)
                failed([row_id], error)
                give_back(f"mail server: {error}")
                return False
            with transaction():
                if mark_sent(row_id, token, clock.now()):
                    report.sent += 1
    return True
