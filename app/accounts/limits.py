"""Log in limits that count an attempt before its password is checked, and that an attacker
cannot turn against the account's owner.

Every attempt is counted (an atomic increment in Flask-Limiter's storage, shared by all
workers with ``RATELIMIT_STORAGE_URI=redis://...``) before the password is hashed, so
parallel guesses cannot slip past the limit; an attempt whose password was right is given
back, so a person's own log ins never count.

- From a browser that logged in to the account before (its signed "known device" cookie),
  attempts count only against that device: ``LOGIN_LIMIT_PER_ACCOUNT`` for the account and
  device. Nobody elsewhere can use it up, so the owner at their usual place is never refused.
- From anywhere else: ``LOGIN_LIMIT_PER_IP`` for the client IP (across accounts) and
  ``LOGIN_LIMIT_PER_ACCOUNT`` for the account and IP. All those attempts together also count
  for the account (``LOGIN_LIMIT_ACCOUNT_WIDE``); past that the account is under attack, and
  new places are slowed to ``LOGIN_LIMIT_WHILE_ATTACKED`` for the account and IP.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many

from app.extensions import limiter
from app.i18n import N_

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 365
MAX_ACCOUNTS_PER_DEVICE = 10  # a shared computer remembers the last few accounts

NETWORK = N_("Too many failed log in attempts from your network. Try again later.")
ACCOUNT = N_("Too many failed log in attempts for this account. Try again in a minute.")
ATTACKED = N_(
    "This account has had many failed log ins from elsewhere, so from a device it has not "
    "been used on, it takes one try a minute. Try again in a minute, or log in from a device "
    "you have used before."
)


@dataclass
class Attempt:
    """The counters one attempt took, and the reason it is refused (English, for gettext)."""

    taken: list[tuple[RateLimitItem, tuple[str, ...]]] = field(default_factory=list)
    refused: str | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def known_device() -> dict:
    """This browser's known-device record: its random id and the accounts (user ids) that
    logged in from it; empty when there is none or its signature does not hold."""
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE, "")
    if not raw:
        return {}
    try:
        data = _serializer().loads(raw, max_age=KNOWN_DEVICE_DAYS * 86400)
    except BadSignature:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        return {}
    users = [u for u in data.get("u", []) if isinstance(u, int)]
    return {"d": data["d"], "u": users}


def device_for(user_id: int | None) -> str | None:
    """The known device's id if this browser logged in to ``user_id`` before."""
    device = known_device()
    if user_id is not None and user_id in device.get("u", []):
        return device["d"]
    return None


def remember_device(response: Response, user_id: int) -> None:
    """After a successful log in: this browser is now a usual place of the account."""
    device = known_device() or {"d": secrets.token_urlsafe(16), "u": []}
    users = [u for u in device["u"] if u != user_id][-(MAX_ACCOUNTS_PER_DEVICE - 1) :]
    value = _serializer().dumps({"d": device["d"], "u": [*users, user_id]})
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        value,
        max_age=KNOWN_DEVICE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["HTTPS"],
    )


def _take(attempt: Attempt, setting: str, scope: str, *identifiers: str) -> bool:
    """Count the attempt against every window of the setting; whether all still allow it."""
    allowed = True
    for item in parse_many(current_app.config[setting]):
        ids = (scope, *identifiers)
        allowed = limiter.limiter.hit(item, *ids) and allowed
        attempt.taken.append((item, ids))
    return allowed


def count_attempt(account: str, ip: str, device: str | None) -> Attempt:
    """Count one log in attempt for ``account`` (the normalised e-mail) before its password
    is checked; ``refused`` says why it may not be checked at all."""
    attempt = Attempt()
    if not current_app.config["RATELIMIT_ENABLED"]:
        return attempt
    if device is not None:
        if not _take(attempt, "LOGIN_LIMIT_PER_ACCOUNT", "login-device", account, device):
            attempt.refused = ACCOUNT
        return attempt
    if not _take(attempt, "LOGIN_LIMIT_PER_IP", "login-ip", ip):
        attempt.refused = NETWORK
    elif not _take(attempt, "LOGIN_LIMIT_PER_ACCOUNT", "login-account-ip", account, ip):
        attempt.refused = ACCOUNT
    elif not _take(attempt, "LOGIN_LIMIT_ACCOUNT_WIDE", "login-account", account) and not _take(
        attempt, "LOGIN_LIMIT_WHILE_ATTACKED", "login-attacked", account, ip
    ):
        attempt.refused = ATTACKED
    return attempt


def give_back(attempt: Attempt) -> None:
    """A log in succeeded: its attempt does not count (fixed windows: one less in each)."""
    storage = limiter.storage
    for item, ids in attempt.taken:
        storage.incr(item.key_for(*ids), item.get_expiry(), amount=-1)


def reset_request_allowed(account: str) -> bool:
    """Count a password reset request for ``account`` (the normalised address asked for,
    whether or not it has an account, so the limit tells nothing); whether it may go on."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    return _take(Attempt(), "PASSWORD_RESET_LIMIT_PER_ADDRESS", "reset-address", account)
