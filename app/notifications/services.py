"""Enqueueing notifications: rows added inside the caller's transaction, flushed, never committed.

A message therefore exists exactly when the state change it tells about committed; a
rolled-back transaction leaves none. Messages to every backer of a project are written with
one set-based ``INSERT ... SELECT``, so 200,000 backers cost one statement, not 200,000 ORM
objects. Each row has a unique key naming the news and its recipient, and inserts skip keys
already there (``ON CONFLICT DO NOTHING``), so a resumed or repeated step never sends twice.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    cast,
    func,
    literal,
    null,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.accounts.models import User
from app.db_types import UTCDateTime
from app.extensions import db
from app.notifications.models import Outbox, OutboxStatus
from app.pledges.domain import PledgeStatus
from app.pledges.models import Payment, Pledge, Refund, RefundStatus
from app.projects.models import Project, ProjectEvent


class Kind(enum.StrEnum):
    """What a message says; each has a template ``templates/notifications/<kind>.html``."""

    PROJECT_FUNDED_CREATOR = "project_funded_creator"
    PROJECT_FUNDED_BACKER = "project_funded_backer"
    PROJECT_FAILED_CREATOR = "project_failed_creator"
    PROJECT_STOPPED_CREATOR = "project_stopped_creator"  # cancelled or suspended
    REFUND_PLANNED_BACKER = "refund_planned_backer"  # failed, cancelled or suspended
    PAYOUT_SENT_CREATOR = "payout_sent_creator"
    PLEDGE_COLLECTED_BACKER = "pledge_collected_backer"
    REFUND_COMPLETE_BACKER = "refund_complete_backer"
    PAYMENT_RETURNED_BACKER = "payment_returned_backer"  # landed for a pledge that had moved
    REFUND_FAILED_BACKER = "refund_failed_backer"  # Stripe gave the money back to us
    PLEDGE_RECEIPT_BACKER = "pledge_receipt_backer"  # the money is held
    PLEDGE_CHANGED_BACKER = "pledge_changed_backer"  # more charged, or the difference refunded
    PLEDGE_CANCELLED_BACKER = "pledge_cancelled_backer"
    PAYMENT_FAILED_BACKER = "payment_failed_backer"  # declined, or ran out of time
    PROJECT_APPROVED_CREATOR = "project_approved_creator"
    PROJECT_CHANGES_REQUESTED_CREATOR = "project_changes_requested_creator"
    PROJECT_REJECTED_CREATOR = "project_rejected_creator"
    PROJECT_LAUNCHED_CREATOR = "project_launched_creator"
    NEW_BACKERS_DIGEST_CREATOR = "new_backers_digest_creator"  # daily, may be turned off
    # Followers, reporters and askers (app/notifications/reminders.py, conversations.py).
    FOLLOWED_LAUNCHED = "followed_launched"  # a project one follows went live
    FOLLOWED_ENDING = "followed_ending"  # ... ends soon, and one has not backed it
    REPORT_DECIDED_REPORTER = "report_decided_reporter"
    QUESTION_ASKED_CREATOR = "question_asked_creator"
    QUESTION_ANSWERED_ASKER = "question_answered_asker"
    COMMENT_REPLY = "comment_reply"  # someone answered your comment; may be turned off
    NEW_COMMENTS_DIGEST_CREATOR = "new_comments_digest_creator"  # daily, may be turned off
    UPDATE_PUBLISHED = "update_published"  # to backers and followers, may be turned off
    STRETCH_GOAL_REACHED = "stretch_goal_reached"  # to backers, with the updates' topic
    SURVEY_SENT = "survey_sent"  # a funded project asks its backers (app/surveys)
    SURVEY_REMINDER = "survey_reminder"  # ... again, 2 and 7 days later, if not answered
    REWARD_SHIPPED_BACKER = "reward_shipped_backer"  # again when the tracking number changes
    DELIVERY_PROBLEM_CREATOR = "delivery_problem_creator"  # a backer reported a problem
    RECONCILIATION_DIFFERS_ADMIN = "reconciliation_differs_admin"  # books and Stripe disagree
    # The account's own mail; the links in them are made when the mail is written.
    VERIFY_EMAIL = "verify_email"
    SIGN_UP_ATTEMPT = "sign_up_attempt"  # someone signed up with an address that has an account
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - changed, or reset
    EMAIL_CHANGE_CONFIRM = "email_change_confirm"  # to the new address
    EMAIL_CHANGED = "email_changed"  # to the old address, with the undo link


# The columns every enqueue fills, in the order of the SELECTs below.
COLUMNS = (
    "key",
    "kind",
    "user_id",
    "to_address",
    "to_name",
    "project_id",
    "pledge_id",
    "amount",
    "currency",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def _constants(kind: Kind) -> tuple[ColumnElement[Any], ...]:
    """kind, status, attempts, next_attempt_at and created_at of a new row, as SQL literals."""
    now = clock.now()
    return (
        literal(kind.value, String),
        literal(OutboxStatus.PENDING.value, String),
        literal(0),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    )


def _insert_statement(table):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"notifications do not support {dialect}")  # pragma: no cover


def to_many(
    kind: Kind,
    key_prefix: str,
    recipients,
    project_id: int,
    data: dict,
    amount: int | None = None,
    currency: str | None = None,
) -> None:
    """One message of ``kind`` to each user of ``recipients`` (a subquery with a ``user_id``
    column), less those who turned off the project's news (``Topic.PROJECT_UPDATES``), in one
    ``INSERT ... SELECT`` however many they are. Keys are ``key_prefix`` + the user's id and
    inserts skip keys already there, so writing the news again sends nobody a second copy."""
    from app.notifications import preferences  # it imports this module

    k, status, attempts, next_at, created = _constants(kind)
    rows = (
        select(
            literal(key_prefix, String) + cast(User.id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            literal(project_id),
            cast(null(), Integer),
            cast(null(), BigInteger) if amount is None else literal(amount, BigInteger),
            cast(null(), String) if currency is None else literal(currency, String),
            status,
            attempts,
            next_at,
            created,
            literal(data, JSON),
        )
        .join(recipients, recipients.c.user_id == User.id)
        .where(User.id.not_in(preferences.opted_out(preferences.Topic.PROJECT_UPDATES)))
    )
    stmt = _insert_statement(Outbox.__table__).from_select((*COLUMNS, "data"), rows)
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    db.session.flush()


def _insert_new(rows: Select) -> None:
    """INSERT the SELECTed rows whose key is not in the outbox yet.

    (No count is returned: psycopg does not report one for INSERT ... SELECT here.)"""
    table = Outbox.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(table).from_select(COLUMNS, rows)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).from_select(COLUMNS, rows)
    else:  # pragma: no cover - the platform runs on SQLite and PostgreSQL only
        raise NotImplementedError(f"notifications do not support {dialect}")
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    db.session.flush()


def _to_creator(kind: Kind, project: Project, amount: int | None) -> None:
    k, status, attempts, next_at, created = _constants(kind)
    rows = select(
        literal(f"{kind.value}:{project.id}", String),
        k,
        User.id,
        User.email,
        User.display_name,
        literal(project.id),
        cast(null(), Integer),  # a typed NULL: PostgreSQL reads a bare one as text
        literal(amount, BigInteger),
        literal(project.currency, String),
        status,
        attempts,
        next_at,
        created,
    ).where(User.id == project.owner_id)
    _insert_new(rows)


def _to_backers(
    kind: Kind,
    *conditions: ColumnElement[bool],
    amount: ColumnElement[int] | None = None,
    joined=None,
    key: str | None = None,
) -> None:
    """One message per pledge matching ``conditions``, to its backer, with ``amount`` (by
    default the pledge's total); ``key`` names the news when it is not one per pledge."""
    if amount is None:
        amount = Pledge.total
    k, status, attempts, next_at, created = _constants(kind)
    rows = (
        select(
            literal(key, String)
            if key
            else literal(f"{kind.value}:", String) + cast(Pledge.id, String),
            k,
            User.id,
            User.email,
            User.display_name,
            Pledge.project_id,
            Pledge.id,
            amount,
            Pledge.currency,
            status,
            attempts,
            next_at,
            created,
        )
        .join(User, User.id == Pledge.backer_id)
        .where(*conditions)
    )
    if joined is not None:
        rows = rows.join(joined, joined.c.pledge_id == Pledge.id)
    _insert_new(rows)


# ---- the news ---------------------------------------------------------------------------


def project_funded(project: Project) -> None:
    """The goal was reached: the creator, and every backer whose pledge is held."""
    _to_creator(Kind.PROJECT_FUNDED_CREATOR, project, project.pledged_amount)
    _to_backers(
        Kind.PROJECT_FUNDED_BACKER,
        Pledge.project_id == project.id,
        Pledge.status == PledgeStatus.HELD,
    )


def project_failed(project: Project) -> None:
    """The goal was not reached: the creator. Backers hear from ``refunds_planned``."""
    _to_creator(Kind.PROJECT_FAILED_CREATOR, project, project.pledged_amount)


def project_stopped(project: Project) -> None:
    """Cancelled by its creator or suspended by a moderator: the creator."""
    _to_creator(Kind.PROJECT_STOPPED_CREATOR, project, project.pledged_amount)


def refunds_planned(project: Project, pledge_ids: Sequence[int]) -> None:
    """These pledges of an ended project are being refunded: their backers."""
    if not pledge_ids:
        return
    _to_backers(
        Kind.REFUND_PLANNED_BACKER,
        Pledge.project_id == project.id,
        Pledge.id.in_(list(pledge_ids)),
        Pledge.status == PledgeStatus.REFUNDING,
    )


def project_paid_out(project: Project, net: int) -> None:
    """The creator was paid: the creator, and every backer whose pledge was collected."""
    _to_creator(Kind.PAYOUT_SENT_CREATOR, project, net)
    _to_backers(
        Kind.PLEDGE_COLLECTED_BACKER,
        Pledge.project_id == project.id,
        Pledge.status == PledgeStatus.COLLECTED,
    )


def pledges_refunded(pledge_ids: Iterable[int]) -> None:
    """Of these pledges, those now refunded: their backers, once per pledge (not per refund),
    with the total refunded. Pledges not (yet) refunded, or already told, are skipped."""
    ids = sorted(set(pledge_ids))
    if not ids:
        return
    refunded = (
        select(Refund.pledge_id, func.sum(Refund.amount).label("amount"))
        .where(Refund.pledge_id.in_(ids), Refund.status == RefundStatus.SUCCEEDED)
        .group_by(Refund.pledge_id)
        .subquery()
    )
    _to_backers(
        Kind.REFUND_COMPLETE_BACKER,
        Pledge.id.in_(ids),
        Pledge.status == PledgeStatus.REFUNDED,
        amount=refunded.c.amount,
        joined=refunded,
    )


def payment_returned(pledge_id: int, payment_id: int, amount: int) -> None:
    """A payment landed when its pledge no longer waited for it (the project had closed, the
    pledge was cancelled): the backer hears that it is being refunded in full."""
    _to_backers(
        Kind.PAYMENT_RETURNED_BACKER,
        Pledge.id == pledge_id,
        amount=literal(amount, BigInteger),
        key=f"{Kind.PAYMENT_RETURNED_BACKER.value}:{payment_id}",
    )


def refund_failed(pledge_id: int, refund_id: int, amount: int) -> None:
    """A refund failed after it was made: the backer hears the money is safe with us."""
    _to_backers(
        Kind.REFUND_FAILED_BACKER,
        Pledge.id == pledge_id,
        amount=literal(amount, BigInteger),
        key=f"{Kind.REFUND_FAILED_BACKER.value}:{refund_id}",
    )


def to_user(
    kind: Kind,
    key: str,
    user_id: int,
    *,
    project_id: int | None = None,
    pledge_id: int | None = None,
    amount: int | None = None,
    currency: str | None = None,
    data: dict | None = None,
    to_address: str | None = None,
) -> None:
    """One message to one user, unless one with ``key`` (which names the news) exists; to
    ``to_address`` instead of the account's address when given (a change of e-mail)."""
    user = db.session.execute(select(User.email, User.display_name).where(User.id == user_id)).one()
    now = clock.now()
    db.session.execute(
        _insert_statement(Outbox.__table__)
        .values(
            key=key[:120],
            kind=kind.value,
            user_id=user_id,
            to_address=to_address or user.email,
            to_name=user.display_name,
            project_id=project_id,
            pledge_id=pledge_id,
            amount=amount,
            currency=currency,
            data=data,
            status=OutboxStatus.PENDING.value,
            attempts=0,
            last_error="",
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    db.session.flush()


def _to_backer_of(kind: Kind, key: str, pledge_id: int, amount: int | None = None, **data) -> None:
    pledge = db.session.execute(
        select(Pledge.backer_id, Pledge.project_id, Pledge.currency,
               Pledge.total.label("total")).where(Pledge.id == pledge_id)
    ).one()  # fmt: skip
    to_user(
        kind,
        key,
        pledge.backer_id,
        project_id=pledge.project_id,
        pledge_id=pledge_id,
        amount=pledge.total if amount is None else amount,
        currency=pledge.currency,
        data=data or None,
    )


def pledge_held(pledge_id: int) -> None:
    """The receipt: the money is charged and held until the deadline."""
    _to_backer_of(Kind.PLEDGE_RECEIPT_BACKER, f"{Kind.PLEDGE_RECEIPT_BACKER.value}:{pledge_id}",
                  pledge_id)  # fmt: skip


def pledge_changed(
    pledge_id: int,
    before: int,
    after: int,
    ref: str,
    payment_id: int | None,
    refund_ids: Sequence[int],
) -> None:
    """A change confirmed: the new total, what was charged or what is refunded."""
    _to_backer_of(
        Kind.PLEDGE_CHANGED_BACKER,
        f"{Kind.PLEDGE_CHANGED_BACKER.value}:{pledge_id}:{ref}",
        pledge_id,
        amount=after,
        before=before,
        payment_id=payment_id,
        refund_ids=list(refund_ids),
    )


def pledge_cancelled(pledge_id: int, amount: int, refund_ids: Sequence[int]) -> None:
    _to_backer_of(
        Kind.PLEDGE_CANCELLED_BACKER,
        f"{Kind.PLEDGE_CANCELLED_BACKER.value}:{pledge_id}",
        pledge_id,
        amount=amount,
        refund_ids=list(refund_ids),
    )


def payment_failed(pledge_id: int, payment_id: int, expired: bool) -> None:
    """Once per payment: a decline (the first one) or its running out of time."""
    amount = db.session.scalar(select(Payment.amount).where(Payment.id == payment_id))
    _to_backer_of(
        Kind.PAYMENT_FAILED_BACKER,
        f"{Kind.PAYMENT_FAILED_BACKER.value}:{payment_id}:{'expired' if expired else 'declined'}",
        pledge_id,
        amount=amount,
        payment_id=payment_id,
        expired=expired,
    )


REVIEW_KINDS = {
    "approve": Kind.PROJECT_APPROVED_CREATOR,
    "request_changes": Kind.PROJECT_CHANGES_REQUESTED_CREATOR,
    "reject": Kind.PROJECT_REJECTED_CREATOR,
}


def project_reviewed(project: Project, decision: str, reason: str) -> None:
    """A moderator's decision, with what they wrote, to the creator (once per decision: a
    project may be sent back and reviewed again)."""
    kind = REVIEW_KINDS[decision]
    decided = db.session.scalar(
        select(func.count()).select_from(ProjectEvent).where(ProjectEvent.project_id == project.id)
    )
    to_user(
        kind,
        f"{kind.value}:{project.id}:{decided}",
        project.owner_id,
        project_id=project.id,
        currency=project.currency,
        amount=project.goal_amount,
        data={"reason": reason},
    )


def project_launched(project: Project) -> None:
    to_user(
        Kind.PROJECT_LAUNCHED_CREATOR,
        f"{Kind.PROJECT_LAUNCHED_CREATOR.value}:{project.id}",
        project.owner_id,
        project_id=project.id,
        currency=project.currency,
        amount=project.goal_amount,
    )


# ---- the account's own mail -----------------------------------------------------------------


def _once(kind: Kind, user_id: int) -> str:
    """A key for news that may happen many times (each request of a link is its own mail)."""
    return f"{kind.value}:{user_id}:{secrets.token_hex(8)}"


def verification_requested(user_id: int) -> None:
    to_user(Kind.VERIFY_EMAIL, _once(Kind.VERIFY_EMAIL, user_id), user_id)


def sign_up_with_taken_address(user_id: int) -> None:
    """At most one a day per account, so sign-up attempts cannot flood its owner's inbox."""
    day = clock.now().date().isoformat()
    to_user(Kind.SIGN_UP_ATTEMPT, f"{Kind.SIGN_UP_ATTEMPT.value}:{user_id}:{day}", user_id)


def password_reset_requested(user_id: int, serial: int) -> None:
    key = f"{Kind.PASSWORD_RESET.value}:{user_id}:{serial}"
    to_user(Kind.PASSWORD_RESET, key, user_id, data={"serial": serial})


def password_changed(user_id: int, reset: bool) -> None:
    to_user(
        Kind.PASSWORD_CHANGED,
        _once(Kind.PASSWORD_CHANGED, user_id),
        user_id,
        data={"reset": reset},
    )


def email_change_requested(user_id: int, new_email: str) -> None:
    to_user(
        Kind.EMAIL_CHANGE_CONFIRM,
        _once(Kind.EMAIL_CHANGE_CONFIRM, user_id),
        user_id,
        data={"new_email": new_email},
        to_address=new_email,
    )


def email_changed(user_id: int, old_email: str, new_email: str) -> None:
    to_user(
        Kind.EMAIL_CHANGED,
        _once(Kind.EMAIL_CHANGED, user_id),
        user_id,
        data={"old_email": old_email, "new_email": new_email},
        to_address=old_email,
    )
