"""One handler for every HTTP error: a friendly page, or JSON when the client asked for it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.errors import UserError
from app.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Forbidden", "You do not have permission to do that."),
    404: ("Not found", "There is nothing here. The address may be mistyped, or the page gone."),
    405: ("Method not allowed", "That action is not available here."),
    413: ("Too large", "What you sent is larger than we accept."),
    429: ("Too many requests", "You are going a little fast. Wait a moment and try again."),
    500: ("Something went wrong", "We could not finish that. Nothing was changed; try again."),
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or best == "application/json"


def render_error(code: int, reason: str | None = None):
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    if wants_json():
        return jsonify(error=title, message=reason or message), code
    return render_template(
        "errors/error.html", code=code, title=title, message=reason or message
    ), code


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
    db.session.rollback()
    return render_error(500)


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
    # Flask calls the 500 handler for any unhandled exception (after logging it), except
    # when exceptions propagate, as in tests and debug mode.
    app.register_error_handler(InternalServerError, handle_server_error)
