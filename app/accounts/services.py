"""Account operations. They flush but never commit: the caller owns the transaction."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock, events
from app.accounts import sessions
from app.accounts.models import Role, User
from app.errors import UserError
from app.extensions import db


class AccountError(UserError):
    """An account operation refused, with a message fit to show the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register(
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.USER,
    verified: bool = False,
) -> User:
    """Create an account; the email must not be taken, in any letter case. ``verified``: the
    address is taken as proved (an admin's command, the demo); sign-up proves it by mail."""
    if find_by_email(email) is not None:
        raise AccountError(gettext("An account with this email already exists."))
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        raise AccountError(
            ngettext(
                "The password must be at least %(num)d character long.",
                "The password must be at least %(num)d characters long.",
                min_length,
            )
        )
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        password_hash=generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        ),
        role=role,
        email_verified_at=clock.now() if verified else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def sign_up(email: str, display_name: str, password: str, locale: str | None) -> None:
    """The sign-up form's work, which looks the same whatever the address: a new address gets
    an unverified account and a link to prove it; an address with an account changes nothing
    of it, and its owner is told someone tried (the password is hashed anyway, so the answer
    takes as long)."""
    existing = find_by_email(email)
    if existing is not None:
        _hash(password)
        if not existing.is_gone:
            events.publish(events.SignUpWithTakenAddress(existing.id))
        return
    user = register(email, display_name, password)
    user.locale = locale  # the language they signed up in: e-mails too
    db.session.flush()
    events.publish(events.VerificationRequested(user.id))


def request_verification(user: User) -> None:
    """Mail a new link proving the address (the older ones keep working until one is used)."""
    if not user.is_verified:
        events.publish(events.VerificationRequested(user.id))


def verify_email(user: User) -> None:
    user.email_verified_at = user.email_verified_at or clock.now()
    db.session.flush()


def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; nothing tells whether it has. Each
    request voids the links asked for before it."""
    user = find_by_email(email)
    if user is None or user.is_gone:
        return
    user.reset_serial += 1
    db.session.flush()
    events.publish(events.PasswordResetRequested(user.id, user.reset_serial))


def _set_password(user: User, password: str) -> None:
    user.password_hash = _hash(password)
    user.reset_serial += 1  # every reset link asked for before is void
    db.session.flush()


def reset_password(user: User, password: str) -> None:
    """A new password through a reset link: the link proved the address too; every session
    ends (the caller starts this device's)."""
    _set_password(user, password)
    verify_email(user)
    sessions.end_all_sessions(user)
    events.publish(events.PasswordChanged(user.id, reset=True))


def change_password(user: User, password: str) -> int:
    """A new password from the settings: every other session ends; how many ended."""
    keep = user.current_session
    _set_password(user, password)
    ended = sessions.end_all_sessions(user, except_current=keep)
    events.publish(events.PasswordChanged(user.id, reset=False))
    return ended


def password_is(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def request_email_change(user: User, new_email: str) -> None:
    """Mail a link to ``new_email`` that moves the account there once followed. An address
    another account has gets nothing, and the answer is the same, so the form tells nobody
    which addresses have accounts."""
    if not user.is_verified:
        raise AccountError(gettext("Confirm your e-mail address first."))
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise AccountError(gettext("That is already your address."))
    if find_by_email(new_email) is None:
        events.publish(events.EmailChangeRequested(user.id, new_email))


def _taken(email: str, user: User) -> bool:
    other = find_by_email(email)
    return other is not None and other.id != user.id


def change_email(user: User, new_email: str) -> None:
    """Follow a confirmation link: the account moves to ``new_email`` (now proved), and the
    old address is told, with a link to undo."""
    if _taken(new_email, user):
        raise AccountError(gettext("Another account uses that address now."))
    old = user.email
    user.email = normalise_email(new_email)
    user.email_verified_at = clock.now()
    db.session.flush()
    events.publish(events.EmailChanged(user.id, old, user.email))


def undo_email_change(user: User, old_email: str) -> None:
    """The old address's undo link: it is put back, every session ends, and a reset link goes
    to it (whoever changed the address may know the password)."""
    if _taken(old_email, user):
        raise AccountError(gettext("Another account uses that address now."))
    user.email = normalise_email(old_email)
    user.email_verified_at = clock.now()
    user.reset_serial += 1
    db.session.flush()
    sessions.end_all_sessions(user)
    events.publish(events.PasswordResetRequested(user.id, user.reset_serial))


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None; the same work is done either way."""
    user = find_by_email(email)
    if user is None:
        # Hash anyway so response time does not tell which emails have accounts.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def set_role(email: str, role_name: str) -> User:
    """Give the account with this email the named role."""
    try:
        role = Role(role_name.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccountError(f"Unknown role {role_name!r}; choose one of: {names}.") from None
    user = find_by_email(email)
    if user is None:
        raise AccountError(f"No account has the email {email!r}.")
    user.role = role
    db.session.flush()
    return user


_DUMMY_HASH = generate_password_hash("not a real password")
