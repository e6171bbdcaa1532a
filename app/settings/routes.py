"""Settings pages. Sessions: every device signed in to the account, each of which can be
ended, and "log out of all other devices"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from app.accounts import sessions
from app.extensions import db
from app.settings.forms import EndSessionsForm

bp = Blueprint("settings", __name__, url_prefix="/settings", template_folder="templates")


@bp.route("/")
@login_required
def index():
    return redirect(url_for("settings.sessions"))


@bp.route("/sessions", endpoint="sessions")
@login_required
def sessions_page():
    current = current_user.current_session
    rows = sessions.active_sessions(current_user)
    rows.sort(key=lambda row: current is None or row.id != current.id)  # this device first
    return render_template(
        "settings/sessions.html",
        rows=rows,
        current=current,
        form=EndSessionsForm(),
    )


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):
    if not EndSessionsForm().validate_on_submit():
        abort(400)
    current = current_user.current_session
    if not sessions.end(current_user, session_id):
        abort(404)  # not one of the user's sessions, or already ended
    db.session.commit()
    if current is not None and current.id == session_id:
        logout_user()
        flash(_("You are logged out."), "info")
        return redirect(url_for("main.index"))
    flash(_("That session has ended: its device is logged out."), "success")
    return redirect(url_for("settings.sessions"))


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    if not EndSessionsForm().validate_on_submit():
        abort(400)
    ended = sessions.end_all_sessions(current_user, except_current=current_user.current_session)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d other device is logged out.", "%(num)d other devices are logged out.", ended
        ),
        "success",
    )
    return redirect(url_for("settings.sessions"))
