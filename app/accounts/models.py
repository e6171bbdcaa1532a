"""The user account and its role."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.db_types import UTCDateTime
from app.extensions import db
from app.i18n import N_, gettext


class Role(enum.StrEnum):
    """Every user can back and create projects; moderators and admins do more."""

    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role's name in the reader's language."""
        return gettext(_ROLE_LABELS[self])


_ROLE_LABELS = {Role.USER: N_("user"), Role.MODERATOR: N_("moderator"), Role.ADMIN: N_("admin")}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower case), so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=lambda e: [m.value for m in e]),
        default=Role.USER,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.at_insert)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    # The language chosen with the footer's switch ("en", "zh_Hans_CN"): pages and e-mails
    # are in it. None: not chosen, the browser's Accept-Language decides (e-mails: English).
    locale: Mapped[str | None] = mapped_column(String(16))
    # Set by an admin (`flask users disable`): no log in, every session ended.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The public profile (/people/<id>-<slug>, edited at /settings/profile): plain text,
    # shown escaped; the website is an http(s) URL checked by the form.
    bio: Mapped[str] = mapped_column(Text, default="", server_default="")
    location: Mapped[str] = mapped_column(String(80), default="", server_default="")
    website: Mapped[str] = mapped_column(String(200), default="", server_default="")
    avatar_image: Mapped[str | None] = mapped_column(String(64))  # file name under uploads/
    # An IANA zone ("Europe/Paris") the user's pages and e-mails give times in; None: the
    # site's (SITE_TIMEZONE).
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Set when the person deleted their account: personal data is gone, the row stays as the
    # pseudonymous reference of their pledges, payments and the ledger (app/settings/leaving.py).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the person followed the link mailed to their address (app/accounts/tokens.py);
    # None: not proved yet, so no new project, payout set-up or change of e-mail.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped by every password reset request and every change of password: a reset link
    # names the value it was made for, so a newer link or a new password voids older links.
    reset_serial: Mapped[int] = mapped_column(default=0, server_default="0")

    # The login identity of the request's session, "<session id>.<secret>" (set by
    # app/accounts/sessions.py), never the numeric id: cookies name a session, not a user.
    session_identity = None
    current_session = None

    def get_id(self) -> str:
        if not self.session_identity:
            raise RuntimeError("log in through app.accounts.sessions.start")
        return self.session_identity

    @property
    def is_moderator(self) -> bool:
        """Moderators and admins may moderate."""
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_gone(self) -> bool:
        """Deleted or disabled: no public profile."""
        return self.deleted_at is not None or self.disabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
