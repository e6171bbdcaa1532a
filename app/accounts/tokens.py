"""The links mailed to prove an address, reset a password, change an e-mail or undo that change.

Each is signed (itsdangerous, with ``SECRET_KEY`` and a salt per kind, so one kind's token is
never taken for another), expires (its setting) and is single use because it is bound to the
account's state that using it changes:

- verify: the address it was sent to, and "not verified yet": verifying, or any change of
  address, voids it;
- reset: a fingerprint of the password hash and ``users.reset_serial``: using it (a new
  password), a newer link (the serial is bumped) or a change of password voids it;
- change of e-mail: the address the account had and the new one: the change voids it;
- undo: the old and the new address: putting the old one back voids it.

Links are made when the e-mail is written (app/notifications/messages.py), never stored.
Signatures are checked before anything is looked up; every failure is the same ``None``.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from app import clock
from app.accounts.models import User
from app.extensions import db

VERIFY = "email-verify"
RESET = "password-reset"
CHANGE = "email-change"
UNDO = "email-change-undo"


class _ClockSigner(TimestampSigner):
    """Timestamps from app.clock, so a link's age follows the platform's (and the tests') time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"backstage-{kind}", signer=_ClockSigner
    )


def _max_age(kind: str) -> int:
    config = current_app.config
    return {
        VERIFY: config["EMAIL_VERIFY_MAX_AGE_DAYS"] * 86400,
        RESET: config["PASSWORD_RESET_MAX_AGE_MINUTES"] * 60,
        CHANGE: config["EMAIL_VERIFY_MAX_AGE_DAYS"] * 86400,
        UNDO: config["EMAIL_UNDO_MAX_AGE_DAYS"] * 86400,
    }[kind]


def _digest(*parts: object) -> str:
    """A short fingerprint of account state, so the link does not show it."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _load(kind: str, token: str) -> dict | None:
    try:
        data = _serializer(kind).loads(token, max_age=_max_age(kind))
    except BadData:  # tampered, expired, or not a token at all
        return None
    return data if isinstance(data, dict) and isinstance(data.get("u"), int) else None


def _user(data: dict) -> User | None:
    user = db.session.get(User, data["u"])
    if user is None or user.is_gone:
        return None
    return user


def _same(a: str, b: object) -> bool:
    return isinstance(b, str) and hmac.compare_digest(a, b)


# ---- verify the address -----------------------------------------------------------------


def verification(user: User) -> str:
    return _serializer(VERIFY).dumps({"u": user.id, "s": _digest(user.email, "unverified")})


def verified_user(token: str) -> User | None:
    """The account this verify link still proves the address of, else None."""
    data = _load(VERIFY, token)
    user = _user(data) if data else None
    if user is None or user.is_verified:
        return None
    return user if _same(_digest(user.email, "unverified"), data.get("s")) else None


# ---- reset the password -----------------------------------------------------------------


def _reset_state(user: User, serial: int) -> str:
    return _digest(user.password_hash, serial)


def reset(user: User, serial: int) -> str:
    """The link of the reset request that set ``users.reset_serial`` to ``serial``."""
    return _serializer(RESET).dumps({"u": user.id, "s": _reset_state(user, serial)})


def reset_user(token: str) -> User | None:
    data = _load(RESET, token)
    user = _user(data) if data else None
    if user is None:
        return None
    return user if _same(_reset_state(user, user.reset_serial), data.get("s")) else None


# ---- change of e-mail, and its undo -------------------------------------------------------


def email_change(user: User, new_email: str) -> str:
    return _serializer(CHANGE).dumps({"u": user.id, "s": _digest(user.email), "e": new_email})


def email_change_of(token: str) -> tuple[User, str] | None:
    """The account and the new address this link still moves it to, else None."""
    data = _load(CHANGE, token)
    user = _user(data) if data else None
    if user is None or not isinstance(data.get("e"), str):
        return None
    if not _same(_digest(user.email), data.get("s")) or user.email == data["e"]:
        return None
    return user, data["e"]


def email_undo(user_id: int, old_email: str, new_email: str) -> str:
    return _serializer(UNDO).dumps({"u": user_id, "o": old_email, "s": _digest(new_email)})


def email_undo_of(token: str) -> tuple[User, str] | None:
    """The account and the old address this undo link still puts back, else None."""
    data = _load(UNDO, token)
    user = _user(data) if data else None
    if user is None or not isinstance(data.get("o"), str):
        return None
    if not _same(_digest(user.email), data.get("s")):
        return None
    return user, data["o"]
