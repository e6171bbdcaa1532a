"""One handler for every HTTP error: a friendly page, or JSON when the client asked for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import UserError
from app.extensions import db, login_manager
from app.payments.gateway import CardError, GatewayError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You do not have permission to do that."),
    404: ("Not found", "There is nothing here. The address may be mistyped, or the page gone."),
    405: ("Method not allowed", "That action is not available here."),
    413: ("Too large", "What you sent is larger than we accept."),
    429: ("Too many requests", "You are going a little fast. Wait a moment and try again."),
    500: ("Something went wrong", "We could not finish that. Try again in a moment."),
    503: ("Back in a moment", "The site cannot do this just now. Try again in a minute."),
}
RETRY_AFTER_SECONDS = 30

# What an outage means for the page the person was on: true, whatever had already happened.
# The return page from Stripe comes after the card was charged, so "nothing happened" is false.
PAID_ENDPOINTS = {"pledges.complete"}
PAID_MESSAGE = (
    "Your payment reached our payment provider, but we cannot record it just now. You do "
    "not need to pay again: it is confirmed automatically within a few minutes, and your "
    "pledge will show it."
)
DATABASE_MESSAGE = {
    "GET": "We cannot reach our database just now. Try again in a minute.",
    "POST": (
        "We cannot reach our database just now, so we could not finish this. Nothing is "
        "lost: a payment or refund already on its way is completed automatically when we are "
        "back. Try again in a minute."
    ),
}
STRIPE_MESSAGE = (
    "Our payment provider is not answering just now, so we could not finish this. No card "
    "was charged by this request. Try again in a minute."
)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or best == "application/json"


def render_error(code: int, reason: str | None = None):
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if code == 503 else {}
    if wants_json():
        return jsonify(error=title, message=reason or message), code, headers
    _without_database(load=code < 500)
    page = render_template("errors/error.html", code=code, title=title, message=reason or message)
    return page, code, headers


@dataclass(frozen=True)
class _KnownUser:
    """The signed-in user as already loaded, for a page that must not query the database."""

    display_name: str
    role: Any
    is_moderator: bool
    is_authenticated: bool = True


def _without_database(load: bool) -> None:
    """Make the layout's ``current_user`` one that needs no query, then end the transaction.

    An error page renders the site's layout, which shows the signed-in user. Loading that
    user from a database that is down fails again inside the error handler (and the server
    answers with its bare "Internal Server Error"), and a user loaded before the error is
    expired by the rollback. So the page gets the values already in memory, or no one. A
    client error (``load``) may still load the user, if the database answers.
    """
    if load and "_login_user" not in g:
        try:
            current_user._get_current_object()
        except DBAPIError:
            g.pop("_login_user", None)
    state = sa.inspect(g.get("_login_user"), raiseerr=False)  # None unless a loaded User
    values = state.dict if state is not None else {}
    if "display_name" in values and "role" in values:
        role = values["role"]
        g._login_user = _KnownUser(values["display_name"], role, role.value != "user")
    else:
        g._login_user = login_manager.anonymous_user()
    try:
        db.session.rollback()
    except Exception:  # a dead connection: nothing to roll back that the server kept
        log.warning("rollback failed while rendering an error page", exc_info=True)


def handle_http_error(error: HTTPException):
    code = error.code or 500
    # Only messages written for users travel to the page; werkzeug's defaults stay generic.
    reason = getattr(error, "description", None) if _is_user_message(error) else None
    return render_error(code, reason)


def _is_user_message(error: HTTPException) -> bool:
    if isinstance(error, CSRFError):
        return True
    default = type(error).description
    return bool(error.description) and error.description != default


def handle_server_error(error: Exception):
    original = getattr(error, "original_exception", None)
    if isinstance(original, DBAPIError) and _is_outage(original):
        return handle_database_error(original)
    return render_error(500)


# sqlite3 raises OperationalError for bad SQL too ("no such column"); these are outages.
SQLITE_OUTAGES = ("unable to open database", "database is locked", "disk i/o error")


def _is_outage(error: DBAPIError) -> bool:
    """The database could not be reached, dropped the connection or stayed busy (as opposed
    to a statement that is wrong, which is a bug and a 500)."""
    if error.connection_invalidated or isinstance(error, sa.exc.InterfaceError):
        return True
    if not isinstance(error, sa.exc.OperationalError):
        return False
    if type(error.orig).__module__.startswith("sqlite3"):
        return any(text in str(error.orig).lower() for text in SQLITE_OUTAGES)
    return True  # psycopg: connection failures, shutdowns, exhausted resources


def handle_database_error(error: DBAPIError):
    if not _is_outage(error):
        raise error  # a real bug: the 500 handler logs it and shows its page
    log.error("database unavailable: %s", error.__class__.__name__, exc_info=error)
    if request.endpoint in PAID_ENDPOINTS:
        return render_error(503, PAID_MESSAGE)
    return render_error(503, DATABASE_MESSAGE["GET" if request.method == "GET" else "POST"])


def handle_gateway_error(error: GatewayError):
    """Stripe unreachable or failing, where the view did not handle it itself."""
    if isinstance(error, CardError) or not error.retryable:
        log.error("unhandled Stripe refusal: %s", error, exc_info=error)
        return render_error(500)
    log.error("Stripe unavailable: %s", error)
    if request.endpoint in PAID_ENDPOINTS:
        return render_error(503, PAID_MESSAGE)
    return render_error(503, STRIPE_MESSAGE)


def handle_user_error(error: UserError):
    """A refused action: nothing is kept, the user sees why on the page they came from."""
    db.session.rollback()
    if wants_json():
        return jsonify(error="Refused", message=str(error)), 409
    flash(str(error), "danger")
    return redirect(_same_site_referrer() or url_for("main.index"))


def _same_site_referrer() -> str | None:
    ref = request.referrer
    if ref and urlsplit(ref).netloc == request.host:
        return ref
    return None


def refuse_nul_characters() -> None:
    """A NUL character in a query or form value is a bad request: PostgreSQL cannot store or
    even compare it, so it would otherwise fail deep in a query with a 500."""
    if request.endpoint == "pledges.webhook":
        return  # its raw body is verified and parsed by the view itself
    for _name, value in (*request.args.items(multi=True), *request.form.items(multi=True)):
        if "\x00" in value:
            abort(400, "The request contains a NUL character, which no field accepts.")


def register(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.register_error_handler(UserError, handle_user_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(GatewayError, handle_gateway_error)
    # Flask calls the 500 handler for any unhandled exception (after logging it), except
    # when exceptions propagate, as in tests and debug mode.
    app.register_error_handler(InternalServerError, handle_server_error)
