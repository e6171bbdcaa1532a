"""Signed-in sessions kept on the server, so each one can be ended.

A log in makes a ``UserSession`` row: a random secret (only its SHA-256 is stored), the
device (from the user agent), the IP and when it was last seen. The login identity Flask-Login
keeps in the session cookie and in the remember-me cookie is ``"<row id>.<secret>"``, never
the numeric user id, and ``load`` accepts it only while the row is not revoked, not idle too
long and its account not disabled. So log out, "log out of all other devices", a password
change or reset (``end_all_sessions``) and an admin disabling the account end every session
and remember-me cookie at once. Functions here flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import ua_parser
from flask import current_app
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.accounts.models import User
from app.db_types import UTCDateTime
from app.extensions import db

SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


class UserSession(db.Model):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    ip: Mapped[str] = mapped_column(String(45), default="")
    device: Mapped[str] = mapped_column(String(120), default="")
    remember: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def device_of(user_agent: str) -> str:
    """ "Firefox on Ubuntu", "Mobile Safari on iOS (iPhone)"; empty when nothing is known."""
    if not user_agent:
        return ""
    parsed = ua_parser.parse(user_agent[:1000])
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    device = parsed.device.family if parsed.device else ""
    if browser in ("", "Other"):
        browser = ""
    if system in ("", "Other"):
        system = ""
    text = " on ".join(part for part in (browser, system) if part)
    if device and device not in ("Other", "Mac", "Generic Smartphone", "K") and text:
        text += f" ({device})"
    return text[:120]


def start(user: User, ip: str, user_agent: str, remember: bool) -> str:
    """A new session for ``user``: the login identity its cookies will carry."""
    secret = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        secret_hash=_hash(secret),
        ip=(ip or "")[:45],
        device=device_of(user_agent),
        remember=remember,
    )
    db.session.add(row)
    db.session.flush()
    identity = f"{row.id}.{secret}"
    user.session_identity = identity  # what User.get_id returns for this request
    user.current_session = row
    return identity


def _lifetime(row: UserSession) -> timedelta:
    """How long a session may go unseen: a remembered one as long as its cookie lasts."""
    if row.remember:
        return current_app.config.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
    return timedelta(days=current_app.config["SESSION_IDLE_DAYS"])


def is_active(row: UserSession, now: datetime) -> bool:
    return row.revoked_at is None and now - row.last_seen_at <= _lifetime(row)


def load(identity: str) -> User | None:
    """The user a cookie's identity belongs to, or None if its session has ended (revoked,
    idle too long, account disabled) or the identity is not one (an old numeric user id)."""
    session_id, _, secret = identity.partition(".")
    if not session_id.isdigit() or not secret or len(session_id) > 18:
        return None
    row = db.session.get(UserSession, int(session_id))
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    now = clock.now()
    if not is_active(row, now) or row.user.disabled_at is not None:
        return None
    user = row.user
    user.session_identity = identity
    user.current_session = row
    return user


def seen(row: UserSession, ip: str) -> bool:
    """Note that the session is in use (at most once a minute); whether a row changed."""
    now = clock.now()
    if now - row.last_seen_at < SEEN_EVERY and row.ip == (ip or "")[:45]:
        return False
    row.last_seen_at = now
    row.ip = (ip or "")[:45]
    db.session.flush()
    return True


def active_sessions(user: User) -> list[UserSession]:
    """The user's sessions that have not ended, the most recently used first."""
    now = clock.now()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [row for row in rows if is_active(row, now)]


def end(user: User, session_id: int) -> bool:
    """End one of the user's own sessions; whether it was still going."""
    result = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
    )
    return result.rowcount == 1


def end_all_sessions(user: User, except_current: UserSession | int | None = None) -> int:
    """End every session of ``user`` (and so every remember-me cookie), but the one given;
    how many ended. For log out everywhere, a password change or reset, disabling."""
    keep = except_current.id if isinstance(except_current, UserSession) else except_current
    statement = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    result = db.session.execute(
        statement.values(revoked_at=clock.now()).execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return result.rowcount


def disable(user: User) -> int:
    """Disable the account: it cannot log in, and every session of it ends now."""
    user.disabled_at = user.disabled_at or clock.now()
    db.session.flush()
    return end_all_sessions(user)


def enable(user: User) -> None:
    user.disabled_at = None
    db.session.flush()
