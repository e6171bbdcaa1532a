"""Follow and unfollow a project; the saved projects page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.follows import services
from app.projects.forms import ConfirmForm
from app.projects.routes import visible_project

bp = Blueprint("follows", __name__, template_folder="templates")


@bp.app_template_global()
def is_following(project) -> bool:
    user_id = current_user.id if current_user.is_authenticated else None
    return services.follows(project.id, user_id)


@bp.route("/projects/<int:project_id>/follow", methods=["POST"])
@login_required
def follow(project_id: int):
    project = visible_project(project_id, upcoming=True)
    if ConfirmForm().validate_on_submit():
        try:
            services.follow(project, current_user.id)
        except services.FollowRefused as refused:
            flash(gettext(str(refused)), "warning")
        else:
            db.session.commit()
            flash(
                gettext("Saved. We will e-mail you when it launches and 48 hours before it ends."),
                "success",
            )
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/projects/<int:project_id>/unfollow", methods=["POST"])
@login_required
def unfollow(project_id: int):
    project = visible_project(project_id, upcoming=True)
    if ConfirmForm().validate_on_submit():
        services.unfollow(project.id, current_user.id)
        db.session.commit()
        flash(gettext("Removed from your saved projects."), "info")
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/my/saved")
@login_required
def saved():
    return render_template(
        "follows/saved.html", follows=services.saved(current_user.id), confirm=ConfirmForm()
    )
