"""One handler for every HTTP error: a friendly page, or JSON when the client asked for it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import UserError
from app.extensions import db, login_manager
from app.i18n import N_
from app.payments.gateway import CardError, GatewayError

log = logging.getLogger(__name__)

# Marked for the catalogue (N_), translated when the page is drawn: in the reader's language.
MESSAGES = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    403: (N_("Forbidden"), N_("You do not have permission to do that.")),
    404: (
        N_("Not found"),
        N_("There is nothing here. The address may be mistyped, or the page gone."),
    ),
    405: (N_("Method not allowed"), N_("That action is not available here.")),
    413: (N_("Too large"), N_("What you sent is larger than we accept.")),
    429: (
        N_("Too many requests"),
        N_("You are going a little fast. Wait a moment and try again."),
    ),
    500: (N_("Something went wrong"), N_("We could not finish that. Try again in a moment.")),
    503: (N_("Back in a moment"), N_("The site cannot do this just now. Try again in a minute.")),
}
# Flask-WTF's reasons for refusing a form's CSRF token, shown on the 400 page.
CSRF_REASONS = (
    N_("The CSRF token is missing."),
    N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."),
    N_("The CSRF token is invalid."),
    N_("The CSRF tokens do not match."),
)
RETRY_AFTER_SECONDS = 30

# What an outage means for the page the person was on: true, whatever had already happened.
# The return page from Stripe comes after the card was charged, so "nothing happened" is false.
PAID_ENDPOINTS = {"pledges.complete"}
PAID_MESSAGE = N_(
    "Your payment reached our payment provider, but we cannot record it just now. You do "
    "not need to pay again: it is confirmed automatically within a few minutes, and your "
    "pledge will show it."
)
DATABASE_MESSAGE = {
    "GET": N_("We cannot reach our database just now. Try again in a minute."),
    "POST": N_(
        "We cannot reach our database just now, so we could not finish this. Nothing is "
        "lost: a payment or refund already on its way is completed automatically when we are "
        "back. Try again in a minute."
    ),
}
STRIPE_MESSAGE = N_(
    "Our payment provider is not answering just now, so we could not finish this. No card "
    "was charged by this request. Try again in a minute."
)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or best == "application/json"


def render_error(code: int, reason: str | None = None):
    english, message = MESSAGES.get(code, (None, None))
    title = gettext(english) if english else gettext("Error %(code)s", code=code)
    message = gettext(message) if message else gettext("The request failed.")
    if reason in CSRF_REASONS:
        reason = gettext(reason)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if code == 503 else {}
    if wants_json():  # "error" stays the English name, for programs; the message is the reader's
        return jsonify(error=english or f"Error {code}", message=reason or message), code, headers
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
        return render_error(503, gettext(PAID_MESSAGE))
    return render_error(
        503, gettext(DATABASE_MESSAGE["GET" if request.method == "GET" else "POST"])
    )


def handle_gateway_error(error: GatewayError):
    """Stripe unreachable or failing, where the view did not handle it itself."""
    if isinstance(error, CardError) or not error.retryable:
        log.error("unhandled Stripe refusal: %s", error, exc_info=error)
        return render_error(500)
    log.error("Stripe unavailable: %s", error)
    if request.endpoint in PAID_ENDPOINTS:
        return render_error(503, gettext(PAID_MESSAGE))
    return render_error(503, gettext(STRIPE_MESSAGE))


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


NUL_MESSAGE = N_("The request contains a NUL character, which no field accepts.")


def refuse_nul_characters() -> None:
    """A NUL character in a query or form value is a bad request: PostgreSQL cannot store or
    even compare it, so it would otherwise fail deep in a query with a 500."""
    if request.endpoint == "pledges.webhook":
        return  # its raw body is verified and parsed by the view itself
    for _name, value in (*request.args.items(multi=True), *request.form.items(multi=True)):
        if "\x00" in value:
            abort(400, gettext(NUL_MESSAGE))


def register(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.register_error_handler(UserError, handle_user_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(GatewayError, handle_gateway_error)
    # Flask calls the 500 handler for any unhandled exception (after logging it), except
    # when exceptions propagate, as in tests and debug mode.
    app.register_error_handler(InternalServerError, handle_server_error)
