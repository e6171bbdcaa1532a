"""Leaving the platform: what still keeps an account, deleting it, and a copy of one's data.

Deleting anonymises rather than removes: the ``users`` row stays, emptied of everything
personal (name, e-mail, password, profile, picture, language, time zone), as the
pseudonymous reference that pledges, payments, refunds, the ledger and statements keep, as
the law requires money records to be kept. The sessions end, the mail opt-outs and follows
go, survey addresses and answers are erased, mail not yet sent is dropped and mail already
sent keeps no address. The account can never log in again: its e-mail is a unique address
that cannot receive mail (``.invalid``, RFC 2606) and its password hash one no password
matches.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from app import clock
from app.accounts import sessions
from app.accounts.models import User
from app.accounts.sessions import UserSession
from app.extensions import db
from app.follows.models import Follow
from app.i18n import N_
from app.notifications.models import MailOptOut, Outbox, OutboxStatus
from app.payouts.models import ConnectedAccount
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects import uploads
from app.projects.domain import ProjectStatus
from app.projects.models import CoverUpload, Project
from app.questions.models import Question
from app.reports.models import Report
from app.surveys import services as surveys

DELETED_NAME = N_("Deleted user")
DELETED_EMAIL_DOMAIN = "deleted.invalid"
UNUSABLE_PASSWORD = "!deleted"  # noqa: S105 - not a werkzeug hash: check_password_hash is always False

# A pledge whose money is not settled yet: in escrow, being paid, being refunded.
OPEN_PLEDGES = (
    PledgeStatus.PENDING,
    PledgeStatus.HELD,
    PledgeStatus.REFUNDING,
    PledgeStatus.REFUND_FAILED,
)
# A project that is in review, live, settling, or waiting for its payout.
OPEN_PROJECTS = (
    ProjectStatus.SUBMITTED,
    ProjectStatus.APPROVED,
    ProjectStatus.LIVE,
    ProjectStatus.SETTLING,
    ProjectStatus.FUNDED,
)


@dataclass
class Blockers:
    """What keeps the account: pledges whose money is not settled, projects not ended."""

    pledges: list[Pledge]
    projects: list[Project]

    def __bool__(self) -> bool:
        return bool(self.pledges or self.projects)


def blockers(user: User) -> Blockers:
    pledges = db.session.scalars(
        select(Pledge)
        .where(Pledge.backer_id == user.id, Pledge.status.in_(OPEN_PLEDGES))
        .order_by(Pledge.id)
    )
    projects = db.session.scalars(
        select(Project)
        .where(Project.owner_id == user.id, Project.status.in_(OPEN_PROJECTS))
        .order_by(Project.id)
    )
    return Blockers(pledges=list(pledges), projects=list(projects))


def deleted_email(user_id: int) -> str:
    return f"deleted-{user_id}@{DELETED_EMAIL_DOMAIN}"


def delete_account(user: User) -> str | None:
    """Anonymise the account (the caller checked ``blockers`` and the password); the name of
    the picture file to remove once committed, if any."""
    avatar = user.avatar_image
    user.display_name = DELETED_NAME  # stored in English, the one language of a stored name
    user.email = deleted_email(user.id)
    user.password_hash = UNUSABLE_PASSWORD
    user.bio = ""
    user.location = ""
    user.website = ""
    user.avatar_image = None
    user.locale = None
    user.timezone = None
    now = clock.now()
    user.deleted_at = now
    user.disabled_at = user.disabled_at or now
    uid = user.id
    db.session.execute(delete(MailOptOut).where(MailOptOut.user_id == uid))
    db.session.execute(delete(Follow).where(Follow.user_id == uid))
    db.session.execute(delete(CoverUpload).where(CoverUpload.user_id == uid))
    surveys.erase_for_user(uid)  # shipping addresses and survey answers
    # Mail not sent yet is never sent; mail sent keeps no address or name.
    db.session.execute(
        delete(Outbox)
        .where(Outbox.user_id == uid, Outbox.status != OutboxStatus.SENT)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Outbox)
        .where(Outbox.user_id == uid)
        .values(to_address=deleted_email(uid), to_name="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == uid)
        .values(ip="", device="")
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    sessions.end_all_sessions(user)
    return avatar


def remove_avatar_file(name: str | None) -> None:
    uploads.remove(name)


# ---- download my data -------------------------------------------------------------------

# Never in the download: secrets that would let someone act as the user or pay with the card.
SECRET_COLUMNS = {"password_hash", "secret_hash", "client_secret", "claim_token"}


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _row(obj) -> dict[str, Any]:
    return {
        column.key: _value(getattr(obj, column.key))
        for column in obj.__mapper__.column_attrs
        if column.key not in SECRET_COLUMNS
    }


def _rows(model, *where) -> list[dict[str, Any]]:
    return [_row(o) for o in db.session.scalars(select(model).where(*where).order_by(model.id))]


def export(user: User) -> dict[str, Any]:
    """Everything the platform holds about the user, as JSON-ready data."""
    uid = user.id
    pledges = []
    for pledge in db.session.scalars(
        select(Pledge).where(Pledge.backer_id == uid).order_by(Pledge.id)
    ):
        pledges.append(
            {
                **_row(pledge),
                "project_title": pledge.project.title,
                "reward": pledge.tier.title,
                "payments": [_row(p) for p in pledge.payments],
                "refunds": [_row(r) for r in pledge.refunds],
            }
        )
    account = _row(user)
    payout_account = db.session.scalar(
        select(ConnectedAccount).where(ConnectedAccount.user_id == uid)
    )
    opt_outs = db.session.scalars(
        select(MailOptOut).where(MailOptOut.user_id == uid).order_by(MailOptOut.topic)
    )
    return {
        "exported_at": clock.now().isoformat(),
        "account": account,
        "sessions": _rows(UserSession, UserSession.user_id == uid),
        "pledges": pledges,
        "projects": _rows(Project, Project.owner_id == uid),
        "payout_account": _row(payout_account) if payout_account else None,
        "follows": _rows(Follow, Follow.user_id == uid),
        "questions_asked": _rows(Question, Question.asker_id == uid),
        "reports_made": _rows(Report, Report.reporter_id == uid),
        "survey_answers": surveys.export_for_user(uid),
        "mail": _rows(Outbox, Outbox.user_id == uid),
        "mail_opt_outs": [{"topic": o.topic, "created_at": _value(o.created_at)} for o in opt_outs],
        "projects_backed": db.session.scalar(
            select(func.count(func.distinct(Pledge.project_id))).where(Pledge.backer_id == uid)
        ),
    }
