"""Notification stories: outbox rows, pledges made straight in the tables, and the mail that
leaves (the file backend's mbox)."""

from __future__ import annotations

import email
import mailbox
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from app import clock as app_clock
from app.accounts.models import User
from app.extensions import db
from app.ledger import services as ledger
from app.ledger.services import Transfer
from app.notifications.models import Outbox
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, PaymentStatus, Pledge
from app.projects.models import Project


def outbox(kind: str | None = None) -> list[Outbox]:
    db.session.expire_all()
    stmt = select(Outbox).order_by(Outbox.id)
    if kind:
        stmt = stmt.where(Outbox.kind == kind)
    return list(db.session.scalars(stmt))


def kinds() -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in outbox():
        counts[row.kind] = counts.get(row.kind, 0) + 1
    return counts


def gen_held_pledges(target: Project, count: int, amount: int = 2500) -> list[int]:
    """``count`` backers with a held pledge each, written straight to the tables (no Stripe):
    the pledges, their succeeded payments and the ledger's charges, so the books agree and
    settlement decides on them."""
    now = app_clock.now()
    tag = f"p{target.id}"
    db.session.execute(
        insert(User),
        [
            {
                "email": f"{tag}-backer{i}@example.com",
                "display_name": f"Backer {i}",
                "password_hash": "-",
                "created_at": now,
            }
            for i in range(count)
        ],
    )
    backer_ids = list(
        db.session.scalars(
            select(User.id).where(User.email.like(f"{tag}-backer%")).order_by(User.id)
        )
    )
    db.session.execute(
        insert(Pledge),
        [
            {
                "project_id": target.id,
                "backer_id": backer_id,
                "tier_id": target.tiers[0].id,
                "currency": target.currency,
                "amount": amount,
                "status": PledgeStatus.HELD,
                "held_at": now,
                "created_at": now,
            }
            for backer_id in backer_ids
        ],
    )
    pledges = db.session.execute(
        select(Pledge.id, Pledge.backer_id)
        .where(Pledge.project_id == target.id, Pledge.backer_id.in_(backer_ids))
        .order_by(Pledge.id)
    ).all()
    payment_ids = db.session.scalars(
        insert(Payment).returning(Payment.id, sort_by_parameter_order=True),
        [
            {
                "pledge_id": pledge.id,
                "amount": amount,
                "currency": target.currency,
                "status": PaymentStatus.SUCCEEDED,
                "idempotency_key": f"gen-{tag}-payment-{pledge.id}",
                "expires_at": now,
                "target_tier_id": target.tiers[0].id,
                "target_amount": amount,
                "target_shipping_fee": 0,
                "created_at": now,
                "completed_at": now,
            }
            for pledge in pledges
        ],
    ).all()
    ledger.book_all(
        [
            Transfer("charge", f"payment:{payment_id}", target.id, pledge.id,
                     ledger.backer(pledge.backer_id), ledger.escrow(target.id), amount,
                     target.currency)
            for payment_id, pledge in zip(payment_ids, pledges, strict=True)
        ]
    )  # fmt: skip
    db.session.execute(
        update(Project)
        .where(Project.id == target.id)
        .values(
            pledged_amount=Project.pledged_amount + amount * count,
            backer_count=Project.backer_count + count,
        )
    )
    db.session.commit()
    db.session.refresh(target)
    return list(
        db.session.scalars(
            select(Pledge.id).where(Pledge.project_id == target.id).order_by(Pledge.id)
        )
    )


def read_mail(path: Path) -> list[EmailMessage]:
    """Every message in the file backend's mbox, parsed with the modern e-mail policy."""
    if not path.exists():
        return []
    box = mailbox.mbox(path, create=False)
    try:
        return [email.message_from_bytes(m.as_bytes(), policy=policy.default) for m in box]
    finally:
        box.close()


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def words_of(message: EmailMessage) -> str:
    """The text part with its line breaks as spaces: what the reader reads, however wrapped."""
    return " ".join(text_of(message).split())


def clear_outbox() -> None:
    """Forget the mail written so far (the review, launch and receipts of a story's setup),
    so a test sees only the news it is about."""
    db.session.execute(delete(Outbox))
    db.session.commit()


def deliver(backend) -> None:
    """Send everything due, as the scheduler does (through the given backend)."""
    from app.notifications import sender

    report = sender.send_pending(backend=backend)
    assert report.failed == 0, report


def mail_to(path: Path, address: str) -> list[EmailMessage]:
    return [m for m in read_mail(path) if m["To"].addresses[0].addr_spec == address]


def assert_multipart(message: EmailMessage) -> tuple[str, str]:
    """Both parts are there, from the same words; every link is absolute. (text, html)"""
    import re

    assert message.get_content_type() == "multipart/alternative"
    text, html = text_of(message), html_of(message)
    assert text.strip() and html.lstrip().lower().startswith("<!doctype html>")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("http://127.0.0.1:5000/") for h in hrefs), hrefs
    return text, html


def mailed_message(address: str, kind: str) -> EmailMessage:
    """The newest message of ``kind`` to ``address``, written as the sender would write it now
    (the links of account mail are made then)."""
    from app import clock as now_of
    from app.notifications import messages

    rows = [r for r in outbox(kind) if r.to_address == address]
    assert rows, f"no {kind} mail to {address}: {kinds()}"
    [(_row_id, message)] = messages.compose([rows[-1]], now_of.now())
    assert isinstance(message, EmailMessage), message
    return message


def mailed_link(address: str, kind: str, path_start: str) -> str:
    """The path of the link starting with ``path_start`` in the newest ``kind`` mail to
    ``address`` (as the text part writes it), ready for the test client."""
    import re

    text = text_of(mailed_message(address, kind))
    links = re.findall(r"http://127\.0\.0\.1:5000(/\S+)", text)
    found = [link for link in links if link.startswith(path_start)]
    assert found, f"no {path_start} link in: {text}"
    return found[0]
