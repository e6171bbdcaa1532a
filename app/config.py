"""Configuration: built-in defaults, then instance/config.py, then environment variables.

Every setting the platform reads is a key of ``DEFAULTS``; the README's configuration
table lists the same keys. An environment variable of the same name overrides the
value, parsed according to the type of the default.

One file sits between instance/config.py and the environment: ``instance/fakestripe.url``,
which ``scripts/run`` writes while its fake Stripe runs (and removes when it stops). Offline
(no STRIPE_SECRET_KEY), and unless the environment sets STRIPE_API_BASE, its one line is the
STRIPE_API_BASE, so a ``flask ...`` command run in another shell talks to the same fake as
the site, whatever port ``FAKESTRIPE_PORT`` gave it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from app import money

DEFAULTS: dict[str, Any] = {
    # Core
    "SECRET_KEY": None,  # generated into instance/secret_key on first run when unset
    "DATABASE_URL": None,  # None means sqlite:///<instance>/crowdfund.sqlite3
    "SQLITE_BUSY_TIMEOUT_SECONDS": 15,  # SQLite: how long a writer waits for the write lock
    "HTTPS": False,  # behind TLS: Secure cookies, HSTS and https redirects
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,  # bytes per request, uploads included
    "COVER_MAX_BYTES": 5 * 1024 * 1024,  # largest cover image
    "COVER_MAX_SIDE": 2400,  # covers are re-encoded, at most this many pixels a side
    "COVER_UPLOADS_PER_HOUR": 20,  # per account
    "AVATAR_MAX_SIDE": 512,  # profile pictures are re-encoded, at most this many pixels a side
    "DRAFTS_PER_ACCOUNT": 5,  # drafts (and projects in review) open at once
    "PROJECTS_PER_PAGE": 12,  # on the discover page
    "PROXY_FIX_X_FOR": 0,  # number of trusted proxies in front (for client IPs and https)
    "QUEUE_TIMEOUT_SECONDS": 10,  # a request the proxy stamped longer ago gets a 503; 0: off
    # Accounts
    "PASSWORD_MIN_LENGTH": 10,
    "PASSWORD_HASH_METHOD": "scrypt",  # werkzeug's method string; tests use a cheap one
    # Log in attempts, counted before the password is checked; successful ones given back.
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute; 30 per hour",  # per account and IP (or device)
    "LOGIN_LIMIT_PER_IP": "30 per minute; 300 per hour",  # per IP, across accounts
    "LOGIN_LIMIT_ACCOUNT_WIDE": "20 per hour",  # per account from new places: then attacked
    "LOGIN_LIMIT_WHILE_ATTACKED": "1 per minute",  # per account and IP while attacked
    "REGISTER_LIMIT_PER_IP": "10 per hour",  # sign-up attempts, successful or not
    # Mailed links (app/accounts/tokens.py) and how often they may be asked for.
    "EMAIL_VERIFY_MAX_AGE_DAYS": 7,  # a link proving an address (sign-up, change of e-mail)
    "PASSWORD_RESET_MAX_AGE_MINUTES": 60,
    "EMAIL_UNDO_MAX_AGE_DAYS": 7,  # the old address's link that undoes a change of e-mail
    "VERIFY_RESEND_LIMIT": "3 per hour",  # "send the link again", per account
    "PASSWORD_RESET_LIMIT_PER_ADDRESS": "3 per hour",  # reset requests, per address asked
    "PASSWORD_RESET_LIMIT_PER_IP": "10 per hour",  # reset requests, per client IP
    "EMAIL_CHANGE_LIMIT": "5 per hour",  # change of e-mail requests, per account
    "SESSION_IDLE_DAYS": 14,  # a session not remembered ends after this long unused
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",  # use redis://... with several web workers
    # Payments
    "STRIPE_SECRET_KEY": "",  # empty: talk to the local fake Stripe (localstripe)
    "STRIPE_PUBLISHABLE_KEY": "",
    "STRIPE_API_BASE": "http://127.0.0.1:8420",  # used only when STRIPE_SECRET_KEY is empty
    "STRIPE_JS_URL": "",  # empty: <STRIPE_API_BASE>/js.stripe.com/v3/ offline, else Stripe's
    "STRIPE_WEBHOOK_SECRET": "",  # whsec_...; offline, derived from SECRET_KEY when empty
    "STRIPE_RETRY_ATTEMPTS": 4,  # tries of one call on timeouts, 429 and 5xx (same key)
    "STRIPE_RETRY_MAX_WAIT": 8,  # seconds, the cap of the exponential backoff (with jitter)
    "STRIPE_RECHECK_MINUTES": 5,  # the sweep re-reads what Stripe left open this long ago
    "STRIPE_RATE_LIMIT": 25,  # requests per second per process: 25 in test mode, 100 live
    "SETTLEMENT_WORKERS": 8,  # concurrent Stripe calls while settling a project
    "SETTLEMENT_LEASE_SECONDS": 300,  # a settling process renews this; a crashed one's expires
    "IDEMPOTENCY_PREFIX": "",  # empty: derived from SECRET_KEY, stable per installation
    "PLEDGE_RESERVATION_MINUTES": 30,  # a reward place waits this long for its payment
    "LIMITED_RESERVATION_MINUTES": 10,  # the same for a place in a limited tier
    "PLEDGE_START_LIMIT_PER_ACCOUNT": "10 per hour",  # pledges started (paid or not)
    "PLEDGE_START_LIMIT_PER_IP": "30 per hour",
    "QUESTION_LIMIT_PER_ACCOUNT": "10 per hour",  # private questions one account asks creators
    "UPDATE_LIMIT_PER_ACCOUNT": "10 per day",  # updates one account publishes (each is mailed)
    "REPORT_LIMIT_PER_ACCOUNT": "10 per day",  # reports one account sends the moderators
    "COMMENT_LIMIT_PER_ACCOUNT": "5 per minute; 60 per day",  # comments and replies posted
    "COMMENT_EDIT_MINUTES": 15,  # how long after posting a comment its author may edit it
    "COMMENTS_PER_PAGE": 20,  # top-level comments per page of a thread (with all their replies)
    "OPEN_PLEDGES_PER_ACCOUNT": 3,  # unpaid pledges one account may have across the site
    "ABANDONED_BEFORE_SLOWDOWN": 3,  # unpaid pledges in 24 h before new ones must wait
    "ABANDON_COOLDOWN_MINUTES": 15,  # the first wait; it doubles with each further one
    "SCHEDULER_INTERVAL_SECONDS": 60,  # how often the background jobs run
    "RECONCILE_PER_RUN": 2,  # ended projects the scheduler checks against Stripe each run
    "PLATFORM_FEE_PERCENT": 5,
    # Who bears Stripe's processing fees on the pledges a creator is paid for: "creator"
    # (deducted from the payout, as Kickstarter does) or "platform". On refunded pledges the
    # fee (which Stripe keeps) is always the platform's cost.
    "PROCESSING_FEES_PAID_BY": "creator",
    # The least a reward tier may ask, per currency, in minor units: Stripe's fixed fee on a
    # card charge (30¢, €0.25, 20p, CN¥2.00) stays below the 5% platform fee from there on.
    # In the environment: MINIMUM_PLEDGE="USD=6.00,EUR=5.00" (the currencies named change).
    "MINIMUM_PLEDGE": {"USD": 600, "EUR": 500, "GBP": 400, "CNY": 4000, "JPY": 100},
    "LAUNCH_NEEDS_PAYOUT_ACCOUNT": False,  # False: warn the creator; True: refuse to launch
    # Notifications
    "MAIL_BACKEND": "file",  # file: instance/outbox-mail.log (mbox); log; smtp
    "MAIL_FROM": "Backstage <no-reply@localhost>",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 587,  # 465 means TLS from the start
    "SMTP_USERNAME": "",  # empty: no login
    "SMTP_PASSWORD": "",
    "SMTP_USE_TLS": True,  # STARTTLS before logging in
    "BASE_URL": "http://127.0.0.1:5000",  # links in e-mails are absolute, on this
    "FOLLOW_REMINDER_HOURS": 48,  # followers who have not backed are reminded this long before
    "OUTBOX_KEEP_DAYS": 90,  # sent e-mails older than this are purged from the outbox
    # Languages
    "SITE_TIMEZONE": "UTC",  # moments not tied to a project's creator (receipts, logs)
}

SQLITE_FILE = "crowdfund.sqlite3"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
FAKESTRIPE_URL_FILE = "fakestripe.url"  # written by scripts/run while its fake Stripe runs
REAL_STRIPE_JS = "https://js.stripe.com/v3/"
FEE_PAYERS = ("creator", "platform")


def load_config(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and test overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for key, default in DEFAULTS.items():
        if key in os.environ:
            app.config[key] = parse_env_value(key, os.environ[key], app.config.get(key, default))
    if not app.config["STRIPE_SECRET_KEY"] and "STRIPE_API_BASE" not in os.environ:
        fake = running_fakestripe(Path(app.instance_path) / FAKESTRIPE_URL_FILE)
        if fake:
            app.config["STRIPE_API_BASE"] = fake
    if test_config:
        app.config.update(test_config)
    _derive(app)


def parse_env_value(key: str, raw: str, current: Any) -> Any:
    """Parse an environment string according to the type of the value it replaces."""
    if isinstance(current, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{key} must be true or false, not {raw!r}")
    if isinstance(current, dict):
        return current | _minimum_amounts(key, raw)
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{key} must be a whole number, not {raw!r}") from None
    return raw


def _minimum_amounts(key: str, raw: str) -> dict[str, int]:
    """``USD=6.00,JPY=100``: amounts per currency, in major units, to minor units."""
    amounts = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        code, _, amount = part.partition("=")
        code = code.strip().upper()
        try:
            amounts[code] = money.parse_amount(amount.strip(), code)
        except (KeyError, money.MoneyError) as error:
            raise ValueError(
                f"{key} must read like USD=6.00,EUR=5.00, not {raw!r} ({error})"
            ) from None
    return amounts


def running_fakestripe(path: Path) -> str | None:
    """The address scripts/run wrote for the fake Stripe it started; None without the file."""
    try:
        url = path.read_text().strip()
    except FileNotFoundError:
        return None
    if not url:
        return None
    if not url.startswith(("http://", "https://")) or len(url.split()) != 1:
        raise ValueError(f"{path} must hold the fake Stripe's address (http://...), not {url!r}")
    return url


def _derive(app: Flask) -> None:
    """Settings computed from the ones a user sets."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    cfg = app.config
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path) / SECRET_KEY_FILE)
    url = cfg["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / SQLITE_FILE}"
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    cfg["DATABASE_URL"] = url
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = cfg["HTTPS"]
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["HTTPS"]
    cfg["PREFERRED_URL_SCHEME"] = "https" if cfg["HTTPS"] else "http"
    cfg["BOOTSTRAP_SERVE_LOCAL"] = True
    if cfg["PROCESSING_FEES_PAID_BY"] not in FEE_PAYERS:
        raise ValueError(
            f"PROCESSING_FEES_PAID_BY must be one of {', '.join(FEE_PAYERS)}, "
            f"not {cfg['PROCESSING_FEES_PAID_BY']!r}"
        )
    offline = not cfg["STRIPE_SECRET_KEY"]
    if offline and not cfg["STRIPE_PUBLISHABLE_KEY"]:
        cfg["STRIPE_PUBLISHABLE_KEY"] = "pk_test_offline"
    if offline and not cfg["STRIPE_WEBHOOK_SECRET"]:
        cfg["STRIPE_WEBHOOK_SECRET"] = "whsec_" + _derive_secret(cfg["SECRET_KEY"], "webhook")
    if not cfg["IDEMPOTENCY_PREFIX"]:
        cfg["IDEMPOTENCY_PREFIX"] = "bs" + _derive_secret(cfg["SECRET_KEY"], "idempotency")[:10]
    if not cfg["STRIPE_JS_URL"]:
        base = cfg["STRIPE_API_BASE"].rstrip("/")
        cfg["STRIPE_JS_URL"] = f"{base}/js.stripe.com/v3/" if offline else REAL_STRIPE_JS


def _derive_secret(secret_key: str, purpose: str) -> str:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]


def _instance_secret_key(path: Path) -> str:
    """Read the instance's secret key, creating it (owner-readable only) on first run."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Write a private temporary file, then link it into place: the link fails if another
    # worker won the race, and nobody ever reads a half-written key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
