"""Delivering the outbox: sent once, kept on failure, retried with backoff, never lost."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.notifications import messages, sender
from app.notifications import services as notifications
from app.notifications.models import Outbox, OutboxStatus
from app.notifications.sender import FileBackend, MessageRefused, SmtpBackend
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, Pledge, Refund, RefundStatus
from tests.helpers.notifications import gen_held_pledges, outbox, read_mail, text_of

S = OutboxStatus


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what a real server would have received."""

    instances: list[FakeSMTP] = []
    refuse: set[str] = set()

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port
        self.calls: list[str] = []
        self.sent: list = []
        FakeSMTP.instances.append(self)

    def starttls(self, context=None):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(f"login {user}")

    def send_message(self, message):
        address = message["To"].addresses[0].addr_spec
        if address in self.refuse:
            raise smtplib.SMTPRecipientsRefused({address: (550, b"No such user")})
        self.sent.append(message)

    def quit(self):
        self.calls.append("quit")

    def close(self):
        pass


@pytest.fixture
def fake_smtp(app, monkeypatch):
    FakeSMTP.instances = []
    FakeSMTP.refuse = set()
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="mail.example.com", SMTP_PORT=587)
    return FakeSMTP


def test_the_file_backend_gets_every_message_and_rows_are_marked_sent(
    queued, file_backend, mail_file, clock
):
    report = sender.send_pending(backend=file_backend)
    assert (report.sent, report.failed) == (4, 0)
    rows = outbox()
    assert {r.status for r in rows} == {S.SENT}
    assert all(r.sent_at is not None and r.claim_token is None for r in rows)
    mail = read_mail(mail_file)
    assert sorted(m["To"].addresses[0].addr_spec for m in mail) == sorted(
        r.to_address for r in rows
    )
    first = mail[0]
    assert first["From"] == "Backstage <no-reply@localhost>"
    assert first["Message-ID"].endswith(f".outbox.{rows[0].id}@localhost>")
    assert first["Auto-Submitted"] == "auto-generated"
    assert "\n" not in first["Subject"]
    # Sent rows are not sent again.
    assert sender.send_pending(backend=file_backend).sent == 0
    assert len(read_mail(mail_file)) == 4


def test_the_default_backend_writes_to_the_instance_folder(app, queued, runner):
    from pathlib import Path

    path = Path(app.instance_path) / sender.MAIL_FILE
    path.unlink(missing_ok=True)
    try:
        result = runner.invoke(args=["notifications", "send"])
        assert result.exit_code == 0, result.output
        assert "Sent 4, failed 0; waiting 0, given up 0." in result.output
        assert len(read_mail(path)) == 4
    finally:
        path.unlink(missing_ok=True)


def test_the_log_backend(app, queued, caplog):
    app.config["MAIL_BACKEND"] = "log"
    with caplog.at_level("INFO", logger="app.notifications.sender"):
        assert sender.send_pending().sent == 4
    assert caplog.text.count("mail to ") == 4
    assert caplog.text.count("Subject: Moon Lamp is funded\n") == 3


def test_links_are_absolute_on_base_url(app, queued, file_backend, mail_file):
    app.config["BASE_URL"] = "https://crowd.example.org/back/"
    sender.send_pending(backend=file_backend)
    body = text_of(read_mail(mail_file)[1])
    assert "https://crowd.example.org/back/pledges/" in body
    assert "https://crowd.example.org/back/projects/" in body
    assert "\nhttps://crowd.example.org/back/\n" in body  # the signature's link


def test_smtp_delivers_with_starttls_and_login(app, queued, fake_smtp):
    app.config.update(SMTP_USERNAME="mailer", SMTP_PASSWORD="s3cret")
    assert sender.send_pending(batch_size=3).sent == 4
    assert [s.calls for s in fake_smtp.instances] == [["starttls", "login mailer", "quit"]] * 2
    assert sum(len(s.sent) for s in fake_smtp.instances) == 4  # one connection per batch
    assert (fake_smtp.instances[0].host, fake_smtp.instances[0].port) == ("mail.example.com", 587)


def test_an_unreachable_server_keeps_every_row_for_later(
    app, queued, fake_smtp, monkeypatch, clock
):
    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(smtplib, "SMTP", unreachable)
    report = sender.send_pending()
    assert (report.sent, report.failed) == (0, 4)
    assert "Connection refused" in report.stopped
    rows = outbox()
    assert {(r.status, r.attempts) for r in rows} == {(S.PENDING, 1)}
    assert all("ConnectionRefusedError" in r.last_error for r in rows)
    assert all(r.next_attempt_at >= clock.now() + timedelta(seconds=59) for r in rows)

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    assert sender.send_pending().sent == 0  # not before the backoff is over
    clock.advance(minutes=1, seconds=1)
    assert sender.send_pending().sent == 4
    assert {(r.status, r.attempts) for r in outbox()} == {(S.SENT, 1)}


def test_a_refused_recipient_waits_while_the_others_go(app, queued, fake_smtp, clock):
    refused = queued[2].to_address
    fake_smtp.refuse = {refused}
    report = sender.send_pending()
    assert (report.sent, report.failed) == (3, 1)
    row = next(r for r in outbox() if r.to_address == refused)
    assert (row.status, row.attempts) == (S.PENDING, 1)
    assert "No such user" in row.last_error


def test_backoff_doubles_and_the_sender_gives_up_after_max_attempts(app, queued, fake_smtp, clock):
    assert [sender.backoff(n).total_seconds() for n in (1, 2, 3, 10, 11)] == [
        60,
        120,
        240,
        6 * 3600,
        6 * 3600,
    ]
    refused = queued[0].to_address
    fake_smtp.refuse = {refused}
    for _ in range(sender.MAX_ATTEMPTS):
        sender.send_pending()
        clock.advance(hours=7)
    row = next(r for r in outbox() if r.to_address == refused)
    assert (row.status, row.attempts) == (S.FAILED, sender.MAX_ATTEMPTS)
    clock.advance(days=30)
    assert sender.send_pending().failed == 0  # a failed row waits for a human


def test_a_row_that_cannot_be_written_does_not_hold_up_the_rest(app, queued, file_backend):
    db.session.execute(update(Outbox).where(Outbox.id == queued[1].id).values(kind="no_such"))
    db.session.commit()
    report = sender.send_pending(backend=file_backend)
    assert (report.sent, report.failed) == (3, 1)
    row = db.session.get(Outbox, queued[1].id)
    assert (row.status, row.attempts) == (S.PENDING, 1)
    assert "no_such" in row.last_error


def test_a_dead_senders_claim_runs_out_and_another_sends(app, queued, file_backend, clock):
    assert sender.claim("dead-sender", clock.now(), limit=10) == 4
    db.session.commit()  # ... and the process died here
    assert sender.send_pending(backend=file_backend).sent == 0  # still claimed
    clock.advance(seconds=sender.CLAIM_SECONDS + 1)
    assert sender.send_pending(backend=file_backend).sent == 4
    assert not sender.mark_sent(queued[0].id, "dead-sender", clock.now())  # too late for it


def test_a_slow_batch_hands_back_what_it_could_not_send_in_time(app, queued, monkeypatch):
    sent = []

    class Slow:
        def connect(self):
            from contextlib import nullcontext

            return nullcontext(sent.append)

    ticks = iter(range(0, 10_000, 100))
    monkeypatch.setattr(sender, "monotonic", lambda: next(ticks))
    report = sender.send_pending(backend=Slow(), claim_seconds=500, max_batches=1)
    assert report.sent == 2 and report.stopped == "batch too slow"
    assert sorted(r.status.value for r in outbox()) == ["pending", "pending", "sent", "sent"]
    assert {r.attempts for r in outbox()} == {0}  # handed back, not failed


def test_subjects_and_names_cannot_break_headers():
    assert messages.one_line(" Moon\r\nBcc: x@example.com ") == "Moon Bcc: x@example.com"


def test_the_backend_setting(app):
    app.config["MAIL_BACKEND"] = "pigeon"
    with pytest.raises(ValueError, match="MAIL_BACKEND must be file, log or smtp"):
        sender.backend_from_config()
    app.config.update(MAIL_BACKEND="SMTP", SMTP_PORT=465, SMTP_USE_TLS=False)
    backend = sender.backend_from_config()
    assert isinstance(backend, SmtpBackend) and backend.port == 465
    app.config["MAIL_BACKEND"] = "file"
    assert isinstance(sender.backend_from_config(), FileBackend)


def test_the_scheduler_sends_notifications(app):
    from app import scheduler

    jobs = {job.id for job in scheduler.build(app).get_jobs()}
    assert "notifications-send" in jobs


def test_message_refused_is_what_smtp_rejections_become(app, fake_smtp):
    backend = sender.backend_from_config()
    fake_smtp.refuse = {"x@example.com"}
    with backend.connect() as send:
        message = EmailMessage()
        message["To"] = "x@example.com"
        with pytest.raises(MessageRefused):
            send(message)


@pytest.mark.postgres
def test_two_senders_at_once_deliver_each_message_once(app, creator, project):
    gen_held_pledges(project, 400, amount=1000)
    notifications.project_funded(project)
    db.session.commit()
    lock = threading.Lock()
    delivered: list[str] = []
    start = threading.Barrier(2, timeout=30)

    class Recording:
        def connect(self):
            from contextlib import nullcontext

            def send(message):
                with lock:
                    delivered.append(message["Message-ID"])
                time.sleep(0.001)  # as a mail server would take a moment

            return nullcontext(send)

    reports = []
    errors = []
    flask_app = app

    def run() -> None:
        with flask_app.app_context():
            try:
                start.wait()
                reports.append(sender.send_pending(backend=Recording(), batch_size=25))
            except Exception as error:  # surfaced below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(delivered) == 401 and len(set(delivered)) == 401
    assert sum(r.sent for r in reports) == 401
    assert all(r.sent > 0 for r in reports)  # both really worked, side by side
    assert {r.status for r in outbox()} == {S.SENT}


def test_messages_about_one_pledge_go_in_the_order_written_after_a_sender_dies(
    app, creator, project, file_backend, mail_file, clock
):
    """Issue 21.7: "your refund is on its way" claimed by a sender that was killed must not be
    overtaken by "your refund is complete", written later, while the claim runs out; other
    pledges' messages are not held up."""
    first, second = gen_held_pledges(project, 2, amount=2500)
    _refunding(first)
    notifications.refunds_planned(project, [first])
    db.session.commit()
    assert sender.claim("killed-sender", clock.now(), limit=10) == 1
    db.session.commit()  # ... and the process died here, before sending
    db.session.execute(
        update(Pledge).where(Pledge.id.in_([first, second])).values(status=PledgeStatus.REFUNDED)
    )
    _refunded(first, second)
    notifications.pledges_refunded([first, second])
    db.session.commit()
    assert [r.kind for r in outbox() if r.pledge_id == first] == [
        "refund_planned_backer",
        "refund_complete_backer",
    ]

    report = sender.send_pending(backend=file_backend)
    assert report.sent == 1  # the other backer's news, which waits for nothing
    assert [_kind(m) for m in read_mail(mail_file)] == ["refund_complete_backer"]
    clock.advance(seconds=sender.CLAIM_SECONDS + 1)
    assert sender.send_pending(backend=file_backend).sent == 2
    about_first = [m for m in read_mail(mail_file) if _pledge_link(first) in text_of(m)]
    assert [_kind(m) for m in about_first] == ["refund_planned_backer", "refund_complete_backer"]


def test_a_failed_earlier_message_holds_back_the_later_one_until_it_goes(
    app, creator, project, fake_smtp, clock
):
    (pledge,) = gen_held_pledges(project, 1, amount=2500)
    _refunding(pledge)
    notifications.refunds_planned(project, [pledge])
    db.session.commit()
    row = outbox()[0]
    fake_smtp.refuse = {row.to_address}
    assert sender.send_pending().failed == 1  # waits a minute before its next try
    fake_smtp.refuse = set()
    db.session.execute(
        update(Pledge).where(Pledge.id == pledge).values(status=PledgeStatus.REFUNDED)
    )
    _refunded(pledge)
    notifications.pledges_refunded([pledge])
    db.session.commit()
    assert sender.send_pending().sent == 0  # "complete" waits behind "on its way"
    clock.advance(seconds=61)
    assert sender.send_pending().sent == 2
    sent = [m for s in fake_smtp.instances for m in s.sent]
    assert [_kind(m) for m in sent] == ["refund_planned_backer", "refund_complete_backer"]


def _refunding(pledge_id: int) -> None:
    db.session.execute(
        update(Pledge).where(Pledge.id == pledge_id).values(status=PledgeStatus.REFUNDING)
    )


def _refunded(*pledge_ids: int) -> None:
    """Each pledge's payment refunded in full at Stripe (rows only: the outbox is under test)."""
    for pledge_id in pledge_ids:
        payment = db.session.scalar(select(Payment).where(Payment.pledge_id == pledge_id))
        db.session.add(
            Refund(
                pledge_id=pledge_id,
                payment_id=payment.id,
                amount=payment.amount,
                currency=payment.currency,
                status=RefundStatus.SUCCEEDED,
                reason="project_failed",
                idempotency_key=f"test-refund-{pledge_id}",
                stripe_refund_id=f"re_test_{pledge_id}",
            )
        )
    db.session.flush()


def _kind(message: EmailMessage) -> str:
    """The outbox row a message came from, by its Message-ID (``...outbox.<id>@host``)."""
    row_id = int(message["Message-ID"].split(".outbox.")[1].split("@")[0])
    return db.session.get(Outbox, row_id).kind


def _pledge_link(pledge_id: int) -> str:
    return f"/pledges/{pledge_id}"
