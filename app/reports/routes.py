"""Reporting a project, and the moderators' queue of reports."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.accounts.models import User
from app.comments.models import Comment
from app.comments.routes import comment_of, comment_url
from app.errors import UserError
from app.extensions import db, limiter
from app.moderation.routes import moderator_required
from app.projects.models import Project
from app.projects.routes import visible_project
from app.reports import services
from app.reports.forms import DecisionForm, ReportForm
from app.reports.models import COMMENT_REASONS, ReportReason

bp = Blueprint("reports", __name__, template_folder="templates")


@bp.app_template_global()
def open_reports() -> int:
    return services.open_count()


@bp.route("/projects/<int:project_id>/report", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["REPORT_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    methods=["POST"],
    scope="reports-account",
    error_message=lambda: gettext("You have sent many reports lately. Try again later."),
)
def report_project(project_id: int):
    project = visible_project(project_id)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.report_project(
                project, current_user, ReportReason(form.reason.data), form.details.data or ""
            )
        except services.ReportRefused as refused:
            flash(gettext(str(refused)), "warning")
        else:
            db.session.commit()
            flash(
                gettext(
                    "Thank you: a moderator will look at it, and you will hear what they decide."
                ),
                "success",
            )
        return redirect(url_for("projects.show", project_id=project.id))
    return render_template("reports/new.html", project=project, form=form)


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["REPORT_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    methods=["POST"],
    scope="reports-account",
    error_message=lambda: gettext("You have sent many reports lately. Try again later."),
)
def report_comment(comment_id: int):
    comment, project = comment_of(comment_id)
    back = redirect(comment_url(comment))
    if not comment.is_shown:
        flash(gettext("This comment is no longer shown."), "warning")
        return back
    form = ReportForm(reasons=COMMENT_REASONS)
    if form.validate_on_submit():
        try:
            services.report_comment(
                comment, current_user, ReportReason(form.reason.data), form.details.data or ""
            )
        except services.ReportRefused as refused:
            flash(gettext(str(refused)), "warning")
        else:
            db.session.commit()
            flash(
                gettext(
                    "Thank you: a moderator will look at it, and you will hear what they decide."
                ),
                "success",
            )
        return back
    author = db.session.get(User, comment.author_id)
    return render_template(
        "reports/new_comment.html", project=project, comment=comment, author=author, form=form
    )


@bp.route("/moderation/reports")
@moderator_required
def queue():
    return render_template("reports/queue.html", groups=services.queue(), form=DecisionForm())


@bp.route(
    "/moderation/reports/projects/<int:project_id>/<any(dismiss, suspend):decision>",
    methods=["POST"],
)
@moderator_required
def decide(project_id: int, decision: str):
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(gettext("Note: %(error)s", error=error), "danger")
        return redirect(url_for("reports.queue"))
    try:
        decided = services.decide(project, current_user, decision == "suspend", form.note.data)
    except UserError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("reports.queue"))
    db.session.commit()
    if decided:
        flash(
            gettext("Reports dismissed.")
            if decision == "dismiss"
            else gettext("Project suspended: every backer will be refunded."),
            "success",
        )
    else:
        flash(gettext("These reports were already decided."), "info")
    return redirect(url_for("reports.queue"))


@bp.route(
    "/moderation/reports/comments/<int:comment_id>/<any(dismiss, hide):decision>",
    methods=["POST"],
)
@moderator_required
def decide_comment(comment_id: int, decision: str):
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(gettext("Note: %(error)s", error=error), "danger")
        return redirect(url_for("reports.queue"))
    decided = services.decide_comment(comment, current_user, decision == "hide", form.note.data)
    db.session.commit()
    if decided:
        flash(
            gettext("Reports dismissed.")
            if decision == "dismiss"
            else gettext("Comment hidden: the reporters will hear."),
            "success",
        )
    else:
        flash(gettext("These reports were already decided."), "info")
    return redirect(url_for("reports.queue"))
