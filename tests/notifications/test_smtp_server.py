"""The SMTP backend against a real SMTP server on a loopback port (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest

from app.notifications import sender
from app.notifications.models import OutboxStatus
from tests.helpers.notifications import outbox

controller_module = pytest.importorskip("aiosmtpd.controller")


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses chosen recipients."""

    def __init__(self) -> None:
        self.received: list = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app) -> Iterator[Mailbox]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = controller_module.Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_USE_TLS=False
    )
    try:
        yield mailbox
    finally:
        controller.stop()


def test_messages_reach_a_real_smtp_server(app, queued, smtp_server):
    report = sender.send_pending()
    assert (report.sent, report.failed) == (4, 0)
    assert sorted(e.rcpt_tos[0] for e in smtp_server.received) == sorted(
        r.to_address for r in queued
    )
    message = message_from_bytes(smtp_server.received[0].content, policy=policy.default)
    assert message["Subject"] == "Moon Lamp is funded: $75.00 pledged"
    assert "3 backers pledged $75.00 in all." in " ".join(
        message.get_body(("plain",)).get_content().split()
    )
    assert {r.status for r in outbox()} == {OutboxStatus.SENT}


def test_a_recipient_the_server_refuses_waits_for_a_retry(app, queued, smtp_server):
    refused = queued[1].to_address
    smtp_server.refuse = {refused}
    report = sender.send_pending()
    assert (report.sent, report.failed) == (3, 1)
    row = next(r for r in outbox() if r.to_address == refused)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "No such user here" in row.last_error
