"""Settings pages. Profile (the settings' first page); mail preferences; sessions: every
device signed in to the account, each of which can be ended, and "log out of all other
devices"; the account: download one's data, delete the account."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from flask_login import current_user, login_required, logout_user
from werkzeug.security import check_password_hash

from app import clock, i18n
from app.accounts import sessions
from app.extensions import db
from app.i18n import web as i18n_web
from app.notifications import preferences
from app.projects import services as project_services
from app.projects import uploads
from app.settings import credentials, leaving, services
from app.settings.forms import DeleteAccountForm, EndSessionsForm, ProfileForm, notifications_form

bp = Blueprint("settings", __name__, url_prefix="/settings", template_folder="templates")


@bp.route("/")
@login_required
def index():
    return redirect(url_for("settings.profile"))


def _store_avatar(form: ProfileForm) -> str | bool | None:
    """The new picture's file name, None when no file was chosen, False when it was refused
    (the reason is on the form)."""
    file = form.avatar.data
    if not file or not getattr(file, "filename", ""):
        return None
    zone = current_user.timezone or "UTC"
    try:
        project_services.check_cover_quota(current_user.id, clock.now(), zone)
        data = file.read(current_app.config["COVER_MAX_BYTES"] + 1)
        return uploads.save_cover(data, max_side=current_app.config["AVATAR_MAX_SIDE"])
    except (uploads.UploadError, project_services.CoverQuotaReached) as error:
        form.avatar.errors = [*form.avatar.errors, str(error)]
        return False


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user
    form = ProfileForm(
        data=None
        if request.method == "POST"
        else {
            "display_name": user.display_name,
            "bio": user.bio,
            "location": user.location,
            "website": user.website,
            "locale": i18n.supported(user.locale) or i18n_web.current(),
            "timezone": user.timezone or current_app.config["SITE_TIMEZONE"],
        }
    )
    if form.validate_on_submit() and (avatar := _store_avatar(form)) is not False:
        old = user.avatar_image
        services.update_profile(
            user,
            display_name=form.display_name.data,
            bio=form.bio.data,
            location=form.location.data,
            website=form.website.data,
            locale=form.locale.data,
            timezone=form.timezone.data,
        )
        if avatar:
            user.avatar_image = avatar
            try:  # counted, and checked again: a parallel upload may have taken the last one
                project_services.record_cover_upload(user.id, clock.now(), user.timezone or "UTC")
            except project_services.CoverQuotaReached as error:
                db.session.rollback()
                uploads.remove(avatar)
                form.avatar.errors = [*form.avatar.errors, str(error)]
                flash(_("Nothing was saved: see the messages under the fields."), "danger")
                return render_template("settings/profile.html", form=form, user=current_user)
        elif form.remove_avatar.data:
            user.avatar_image = None
        db.session.commit()
        if old and old != user.avatar_image:
            uploads.remove(old)  # only once the change is committed
        refresh()  # the message below in the language just chosen
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("settings.profile"))
    if request.method == "POST":
        flash(_("Nothing was saved: see the messages under the fields."), "danger")
    return render_template("settings/profile.html", form=form, user=user)


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    wanted = services.mail_wanted(current_user.id)
    topics = list(preferences.Topic)
    form = notifications_form(topics, wanted)
    if form.validate_on_submit():
        chosen = {t: bool(getattr(form, f"topic_{t.value}").data) for t in topics}
        services.set_mail_wanted(current_user.id, chosen)
        db.session.commit()
        flash(_("Your e-mail preferences are saved."), "success")
        return redirect(url_for("settings.notifications"))
    if request.method == "POST":
        abort(400)  # only a missing or stale CSRF token fails a form of checkboxes
    return render_template(
        "settings/notifications.html",
        form=form,
        topics=[(t, getattr(form, f"topic_{t.value}")) for t in topics],
    )


@bp.route("/account")
@login_required
def account():
    return render_template(
        "settings/account.html",
        form=DeleteAccountForm(),
        blockers=leaving.blockers(current_user),
    )


@bp.route("/account/delete", methods=["POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    blockers = leaving.blockers(current_user)
    if blockers:
        flash(_("Your account cannot be deleted yet: see what keeps it below."), "warning")
        return redirect(url_for("settings.account"))
    if not form.validate_on_submit():
        return render_template("settings/account.html", form=form, blockers=blockers), 400
    if not check_password_hash(current_user.password_hash, form.password.data):
        form.password.errors = [_("That is not your password.")]
        return render_template("settings/account.html", form=form, blockers=blockers), 400
    avatar = leaving.delete_account(current_user)
    db.session.commit()
    uploads.remove(avatar)
    logout_user()
    session.clear()
    flash(_("Your account is deleted. Goodbye, and thank you."), "info")
    return redirect(url_for("main.index"))


@bp.route("/account/data.json")
@login_required
def export():
    data = leaving.export(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    name = f"backstage-data-{current_user.id}-{clock.now():%Y%m%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


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


credentials.register(bp)  # change of password and of e-mail (app/settings/credentials.py)
