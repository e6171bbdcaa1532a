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
from app.reports.models import CONTENT_REASONS, ReportReason
from app.updates import services as update_services
from app.updates.models import Update

bp = Blueprint("reports", __name__, template_folder="templates")
# One allowance per account for every kind of report.
report_limit = limiter.limit(
    lambda: current_app.config["REPORT_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    methods=["POST"],
    scope="reports-account",
    error_message=lambda: gettext("You have sent many reports lately. Try again later."),
)


@bp.app_template_global()
def open_reports() -> int:
    return services.open_count()


@bp.route("/projects/<int:project_id>/report", methods=["GET", "POST"])
@login_required
@report_limit
def report_project(project_id: int):
    project = visible_project(project_id)
    return _report_form(
        ReportForm(),
        lambda reason, details: services.report_project(project, current_user, reason, details),
        redirect(url_for("projects.show", project_id=project.id)),
        "reports/new.html",
        project=project,
    )


def _report_form(form: ReportForm, file, back, template: str, **context):
    """The report form's page, or (sent) the report filed and the reporter sent ``back``."""
    if not form.validate_on_submit():
        return render_template(template, form=form, **context)
    try:
        file(ReportReason(form.reason.data), form.details.data or "")
    except services.ReportRefused as refused:
        flash(gettext(str(refused)), "warning")
    else:
        db.session.commit()
        flash(
            gettext("Thank you: a moderator will look at it, and you will hear what they decide."),
            "success",
        )
    return back


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
@report_limit
def report_comment(comment_id: int):
    comment, project = comment_of(comment_id)
    back = redirect(comment_url(comment))
    if not comment.is_shown:
        flash(gettext("This comment is no longer shown."), "warning")
        return back
    return _report_form(
        ReportForm(reasons=CONTENT_REASONS),
        lambda reason, details: services.report_comment(comment, current_user, reason, details),
        back,
        "reports/new_content.html",
        project=project,
        heading=gettext("Report a comment"),
        back_url=comment_url(comment),
        back_text=gettext("Comments on %(title)s", title=project.title),
        author=db.session.get(User, comment.author_id),
        when=comment.created_at,
        quoted=comment.body,
    )


@bp.route("/projects/<int:project_id>/updates/<int:number>/report", methods=["GET", "POST"])
@login_required
@report_limit
def report_update(project_id: int, number: int):
    project = visible_project(project_id)
    update = update_services.find(project.id, number)
    if update is None or not update_services.full_readers_check(project, current_user)(update):
        abort(404)
    back = redirect(url_for("updates.show", project_id=project.id, number=number))
    if update.is_deleted:
        flash(gettext("This update was removed."), "warning")
        return back
    return _report_form(
        ReportForm(reasons=CONTENT_REASONS),
        lambda reason, details: services.report_update(update, current_user, reason, details),
        back,
        "reports/new_content.html",
        project=project,
        heading=gettext("Report an update"),
        back_url=url_for("updates.show", project_id=project.id, number=number),
        back_text=gettext("Update #%(number)d", number=number),
        author=update.author,
        when=update.published_at,
        quoted=update.title,
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


def _decided(decide, dismissed: bool, acted: str):
    """A decision on a comment's or an update's reports, from the queue's form."""
    form = DecisionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(gettext("Note: %(error)s", error=error), "danger")
        return redirect(url_for("reports.queue"))
    decided = decide(form.note.data)
    db.session.commit()
    if decided:
        flash(gettext("Reports dismissed.") if dismissed else acted, "success")
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
    hide = decision == "hide"
    return _decided(
        lambda note: services.decide_comment(comment, current_user, hide, note),
        not hide,
        gettext("Comment hidden: the reporters will hear."),
    )


@bp.route(
    "/moderation/reports/updates/<int:update_id>/<any(dismiss, remove):decision>",
    methods=["POST"],
)
@moderator_required
def decide_update(update_id: int, decision: str):
    update = db.session.get(Update, update_id)
    if update is None:
        abort(404)
    remove = decision == "remove"
    return _decided(
        lambda note: services.decide_update(update, current_user, remove, note),
        not remove,
        gettext("Update removed: the reporters will hear."),
    )
