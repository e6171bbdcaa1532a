"""Account operations. They flush but never commit: the caller owns the transaction."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Role, User
from app.errors import UserError
from app.extensions import db


class AccountError(UserError):
    """An account operation refused, with a message fit to show the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register(email: str, display_name: str, password: str, role: Role = Role.USER) -> User:
    """Create an account; the email must not be taken, in any letter case."""
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
    )
    db.session.add(user)
    db.session.flush()
    return user


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
