"""The operator's outbox commands: requeue given-up messages, purge old sent ones."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from app import scheduler
from app.config import DEFAULTS, parse_env_value
from app.extensions import db
from app.notifications import sender
from app.notifications.models import Outbox, OutboxStatus
from app.notifications.sender import FileBackend, MessageRefused
from tests.helpers.notifications import outbox, read_mail

S = OutboxStatus


class Refusing(FileBackend):
    """The file backend, but the server refuses these recipients."""

    def __init__(self, path: Path, refuse: set[str]) -> None:
        super().__init__(path)
        self.refuse = refuse

    @contextmanager
    def connect(self):
        with super().connect() as send:

            def refusing(message) -> None:
                if message["To"].addresses[0].addr_spec in self.refuse:
                    raise MessageRefused("550 No such user")
                send(message)

            yield refusing


@pytest.fixture
def instance_mail(app):
    """The configured (default, file) backend's mbox, emptied before and after."""
    path = Path(app.instance_path) / sender.MAIL_FILE
    path.unlink(missing_ok=True)
    yield path
    path.unlink(missing_ok=True)


def states() -> dict[int, tuple[S, int]]:
    return {r.id: (r.status, r.attempts) for r in outbox()}


def give_up(*row_ids: int) -> None:
    """As the sender leaves a row after MAX_ATTEMPTS failures."""
    db.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(row_ids))
        .values(status=S.FAILED, attempts=sender.MAX_ATTEMPTS, last_error="550 No such user")
    )
    db.session.commit()


def add_rows(user, clock, *specs: tuple[str, S, float | None]) -> dict[str, int]:
    """Rows by name: (name, status, days since sent or None), created 200 days ago."""
    now = clock.now()
    for name, status, sent_days_ago in specs:
        db.session.add(
            Outbox(
                key=f"test:{name}",
                kind="project_funded_creator",
                user_id=user.id,
                to_address=user.email,
                status=status,
                created_at=now - timedelta(days=200),
                next_attempt_at=now - timedelta(days=200),
                sent_at=None if sent_days_ago is None else now - timedelta(days=sent_days_ago),
            )
        )
    db.session.commit()
    return {r.key.removeprefix("test:"): r.id for r in outbox()}


def names(ids: dict[str, int]) -> set[str]:
    """The names of the rows still in the outbox."""
    left = {r.id for r in outbox()}
    return {name for name, row_id in ids.items() if row_id in left}


# ---- retry ------------------------------------------------------------------------------


def test_retry_requeues_given_up_messages_and_the_next_send_delivers_them(
    app, queued, runner, clock, tmp_path, instance_mail
):
    refused = {queued[1].to_address, queued[3].to_address}
    backend = Refusing(tmp_path / "first.mbox", refused)
    for _ in range(sender.MAX_ATTEMPTS):
        sender.send_pending(backend=backend)
        clock.advance(hours=7)
    given_up = [queued[1].id, queued[3].id]
    before = states()
    assert [before[i] for i in given_up] == [(S.FAILED, sender.MAX_ATTEMPTS)] * 2
    assert before[queued[0].id] == before[queued[2].id] == (S.SENT, 0)
    assert len(read_mail(tmp_path / "first.mbox")) == 2
    result = runner.invoke(args=["notifications", "send"])
    assert "Sent 0, failed 0; waiting 0, given up 2." in result.output  # stuck for good

    result = runner.invoke(args=["notifications", "retry"])
    assert result.exit_code == 0, result.output
    assert result.output == "Requeued 2 given-up message(s); the next send delivers them.\n"
    rows = {r.id: r for r in outbox()}
    for row_id in given_up:
        row = rows[row_id]
        assert (row.status, row.attempts) == (S.PENDING, 0)
        assert row.next_attempt_at <= clock.now()  # due now, not after a backoff
        assert "No such user" in row.last_error  # still there to read
    assert rows[queued[0].id].status == rows[queued[2].id].status == S.SENT

    # The recipients were fixed: the configured backend now delivers both, and only them.
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 2, failed 0; waiting 0, given up 0." in result.output
    mail = read_mail(instance_mail)
    assert sorted(m["To"].addresses[0].addr_spec for m in mail) == sorted(refused)
    assert sorted(m["Message-ID"].split(".outbox.")[1].split("@")[0] for m in mail) == sorted(
        str(i) for i in given_up
    )
    assert {states()[i] for i in given_up} == {(S.SENT, 0)}


def test_retry_by_id_requeues_only_those_given_up_rows(app, queued, runner, clock):
    give_up(queued[0].id, queued[1].id, queued[2].id)
    db.session.execute(update(Outbox).where(Outbox.id == queued[3].id).values(attempts=3))
    db.session.commit()
    before = states()

    named = [queued[0].id, queued[2].id, queued[3].id, 999999]
    result = runner.invoke(args=["notifications", "retry", *[f"--id={i}" for i in named]])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Requeued 2 given-up message(s); the next send delivers them. "
        f"Not given up (or no such message): {queued[3].id}, 999999.\n"
    )
    after = states()
    assert after[queued[0].id] == after[queued[2].id] == (S.PENDING, 0)
    assert after[queued[1].id] == before[queued[1].id] == (S.FAILED, sender.MAX_ATTEMPTS)
    assert after[queued[3].id] == before[queued[3].id] == (S.PENDING, 3)  # its backoff kept


def test_retry_leaves_a_row_a_sender_holds_and_says_when_nothing_matches(
    app, queued, runner, clock
):
    assert sender.claim("busy-sender", clock.now(), limit=1) == 1  # queued[0], being sent
    db.session.commit()
    before = states()
    result = runner.invoke(args=["notifications", "retry"])
    assert result.exit_code == 0, result.output
    assert result.output == "No given-up message to requeue.\n"
    result = runner.invoke(
        args=["notifications", "retry", "--id", str(queued[0].id), "--id", str(queued[1].id)]
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output == f"No given-up message with id {queued[0].id}, {queued[1].id} to requeue.\n"
    )
    assert states() == before
    held = db.session.get(Outbox, queued[0].id)
    assert (held.status, held.claim_token) == (S.SENDING, "busy-sender")
    assert sender.mark_sent(queued[0].id, "busy-sender", clock.now())  # still its sender's


def test_retry_refuses_an_id_that_is_not_a_number(app, queued, runner):
    give_up(queued[0].id)
    result = runner.invoke(args=["notifications", "retry", "--id", "first"])
    assert result.exit_code == 2
    assert "Invalid value for '--id'" in result.output
    assert states()[queued[0].id] == (S.FAILED, sender.MAX_ATTEMPTS)


# ---- purge ------------------------------------------------------------------------------


@pytest.fixture
def aged(app, creator, clock) -> dict[str, int]:
    return add_rows(
        creator,
        clock,
        ("sent-400", S.SENT, 400),
        ("sent-100", S.SENT, 100),
        ("sent-90-and-a-minute", S.SENT, 90 + 1 / 1440),
        ("sent-90-less-a-minute", S.SENT, 90 - 1 / 1440),
        ("sent-30", S.SENT, 30),
        ("sent-today", S.SENT, 0),
        ("pending", S.PENDING, None),
        ("failed", S.FAILED, None),
        # The guard is the status, not only a missing sent time.
        ("pending-with-old-sent-time", S.PENDING, 400),
        ("failed-with-old-sent-time", S.FAILED, 400),
    )


KEPT_AT_90 = {
    "sent-90-less-a-minute",
    "sent-30",
    "sent-today",
    "pending",
    "failed",
    "pending-with-old-sent-time",
    "failed-with-old-sent-time",
}


def test_purge_deletes_exactly_the_sent_rows_older_than_the_default_90_days(app, aged, runner):
    assert app.config["OUTBOX_KEEP_DAYS"] == DEFAULTS["OUTBOX_KEEP_DAYS"] == 90
    result = runner.invoke(args=["notifications", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 3 sent message(s) older than 90 day(s).\n"
    assert names(aged) == KEPT_AT_90
    again = runner.invoke(args=["notifications", "purge"])
    assert again.output == "No sent message older than 90 day(s) to delete.\n"
    assert names(aged) == KEPT_AT_90


def test_purge_older_than_and_the_setting(app, aged, runner):
    result = runner.invoke(args=["notifications", "purge", "--older-than", "365"])
    assert result.output == "Deleted 1 sent message(s) older than 365 day(s).\n"
    assert names(aged) == KEPT_AT_90 | {"sent-100", "sent-90-and-a-minute"}

    app.config["OUTBOX_KEEP_DAYS"] = 7
    result = runner.invoke(args=["notifications", "purge"])
    assert result.output == "Deleted 4 sent message(s) older than 7 day(s).\n"
    assert names(aged) == KEPT_AT_90 - {"sent-90-less-a-minute", "sent-30"}
    assert parse_env_value("OUTBOX_KEEP_DAYS", "30", DEFAULTS["OUTBOX_KEEP_DAYS"]) == 30


@pytest.fixture
def statements(app):
    """What reaches the database, in order: "delete" for a DELETE, "commit" for a commit."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE"):
            seen.append("delete")

    def on_commit(conn):
        seen.append("commit")

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "commit", on_commit)
    yield seen
    event.remove(db.engine, "before_cursor_execute", on_execute)
    event.remove(db.engine, "commit", on_commit)


def test_purge_works_in_batches_each_its_own_transaction(app, creator, clock, runner, statements):
    ids = add_rows(
        creator,
        clock,
        *[(f"old-{i}", S.SENT, 100) for i in range(7)],
        ("recent", S.SENT, 1),
        ("pending", S.PENDING, None),
        ("old-again", S.SENT, 200),  # after the recent one: the batches go past it
    )
    statements.clear()
    result = runner.invoke(args=["notifications", "purge", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert result.output == "Deleted 8 sent message(s) older than 90 day(s).\n"
    assert names(ids) == {"recent", "pending"}
    deletes = [i for i, what in enumerate(statements) if what == "delete"]
    assert len(deletes) == 3  # 3 + 3 + 2 rows
    assert all(statements[i + 1] == "commit" for i in deletes)  # each committed on its own


@pytest.mark.parametrize("days", ["0", "-5", "abc", "1.5", ""])
def test_purge_refuses_bad_days_and_changes_nothing(app, aged, runner, days):
    before = states()
    result = runner.invoke(args=["notifications", "purge", "--older-than", days])
    assert result.exit_code == 2
    assert "Invalid value for '--older-than'" in result.output
    assert states() == before


def test_purge_refuses_a_bad_setting_and_changes_nothing(app, aged, runner):
    app.config["OUTBOX_KEEP_DAYS"] = 0
    before = states()
    result = runner.invoke(args=["notifications", "purge"])
    assert result.exit_code == 2
    assert "OUTBOX_KEEP_DAYS must be at least 1, not 0" in result.output
    assert states() == before
    with pytest.raises(ValueError, match="at least 1"):
        sender.purge_sent(0)


# ---- the scheduler ----------------------------------------------------------------------


def test_the_notifications_job_purges_at_most_once_a_day(app, creator, clock, monkeypatch):
    monkeypatch.setattr(scheduler, "_purged_at", None)
    app.config["MAIL_BACKEND"] = "log"
    job = {j.id: j for j in scheduler.build(app).get_jobs()}["notifications-send"]

    def sent_rows() -> int:
        db.session.rollback()
        return db.session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.status == S.SENT)
        )

    add_rows(creator, clock, ("first", S.SENT, 100), ("kept", S.SENT, 10))
    job.func()
    assert sent_rows() == 1  # "kept" only
    add_rows(creator, clock, ("second", S.SENT, 100))
    clock.advance(hours=23)
    job.func()
    assert sent_rows() == 2  # not again within the day
    clock.advance(hours=1)
    job.func()
    assert sent_rows() == 1
