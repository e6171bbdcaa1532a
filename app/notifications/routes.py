"""Turning a kind of mail off from the mail itself: a signed link, no log in needed.

``GET /mail/unsubscribe/<token>`` asks (a link scanner that follows it turns nothing off);
its form POSTs back with a CSRF token. ``POST /mail/unsubscribe/<token>/one-click`` is the
``List-Unsubscribe`` address mail clients POST ``List-Unsubscribe=One-Click`` to (RFC 8058):
a mail client has no CSRF token to send, so that one view is exempt from CSRF on purpose;
the signed token, which names the user and the kind of mail, is its authorisation, and all
it can do is turn that one kind of mail off for that one user.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from app.extensions import csrf, db
from app.notifications import preferences
from app.projects.forms import ConfirmForm

bp = Blueprint("notifications", __name__, template_folder="templates")


def _read(token: str) -> tuple[int, preferences.Topic]:
    named = preferences.read_token(token)
    if named is None:
        abort(404)
    return named


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    user_id, topic = _read(token)
    form = ConfirmForm()
    if form.validate_on_submit():
        preferences.turn_off(user_id, topic)
        db.session.commit()
        return redirect(url_for("notifications.unsubscribe", token=token))
    if request.method == "POST":  # the CSRF token was missing or stale
        abort(400)
    return render_template(
        "mail/unsubscribe.html",
        topic=topic,
        form=form,
        off=not preferences.wants(user_id, topic),
    )


@bp.route("/mail/unsubscribe/<token>/one-click", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client cannot send a CSRF token; the signed token suffices
def one_click(token: str):
    user_id, topic = _read(token)
    if request.method == "GET":  # a client that opens the address instead: ask first
        return redirect(url_for("notifications.unsubscribe", token=token))
    if request.form.get("List-Unsubscribe") != "One-Click":
        abort(400)
    preferences.turn_off(user_id, topic)
    db.session.commit()
    return redirect(url_for("notifications.unsubscribe", token=token))
