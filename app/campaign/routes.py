"""The creator's dashboard and the public funding chart of a launched project."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app import clock
from app.campaign import chart, referrals, series, services
from app.campaign.forms import RemoveTagForm, TagForm
from app.extensions import db, talisman
from app.projects.models import Project
from app.projects.routes import own_project, visible_project

bp = Blueprint("campaign", __name__, template_folder="templates")

# The chart is an image with no script; pygal styles it with a <style> element of its own.
IMAGE_POLICY = {"default-src": "'none'", "style-src": "'unsafe-inline'"}


def launched(project: Project) -> Project:
    if not services.has_history(project):
        abort(404, gettext("The dashboard and the funding chart start when the project launches."))
    return project


def render_dashboard(project: Project, tag_form: TagForm | None = None, status: int = 200):
    owner = project.owner_id == current_user.id
    return render_template(
        "campaign/dashboard.html",
        project=project,
        board=services.dashboard(project, clock.now()),
        sources=referrals.source_lines(project, services.COUNTED),
        tags=[(tag, referrals.link_of(project, tag.tag)) for tag in referrals.tags_of(project.id)],
        tag_form=(tag_form or TagForm()) if owner else None,
        remove_form=RemoveTagForm() if owner else None,
    ), status


@bp.route("/projects/<int:project_id>/dashboard")
@login_required
def dashboard(project_id: int):
    """The creator's (and moderators') view of a live or ended campaign."""
    project = visible_project(project_id)
    if project.owner_id != current_user.id and not current_user.is_moderator:
        abort(403)
    launched(project)
    return render_dashboard(project)


@bp.route("/projects/<int:project_id>/dashboard/tags", methods=["POST"])
@login_required
def add_tag(project_id: int):
    """The owner adds a referral tag (staff see them, and change nothing)."""
    project = launched(own_project(project_id))
    form = TagForm()
    if form.validate_on_submit():
        try:
            row = referrals.add_tag(project, form.tag.data, form.label.data or "")
            db.session.commit()
        except referrals.TagRefused as refusal:
            db.session.rollback()
            form.tag.errors = [str(refusal)]
        except IntegrityError:  # the same tag, added by a request that committed first
            db.session.rollback()
            form.tag.errors = [referrals.already_has(form.tag.data)]
        else:
            flash(gettext("Tag “%(tag)s” added: share its link.", tag=row.tag), "success")
            return redirect(url_for("campaign.dashboard", project_id=project.id) + "#referrals")
    return render_dashboard(project, form, 400)


@bp.route("/projects/<int:project_id>/dashboard/tags/<int:tag_id>/remove", methods=["POST"])
@login_required
def remove_tag(project_id: int, tag_id: int):
    """The owner removes a tag: its link stops counting; pledges made through it keep it."""
    project = launched(own_project(project_id))
    if not RemoveTagForm().validate_on_submit():
        abort(400)
    if not referrals.remove_tag(project, tag_id):
        abort(404)
    db.session.commit()
    flash(gettext("Tag removed. Pledges made through it still count under its name."), "info")
    return redirect(url_for("campaign.dashboard", project_id=project.id) + "#referrals")


@bp.after_app_request
def _remember_source(response: Response) -> Response:
    """A project page shown with ``?ref=`` or from another site: remember where from."""
    if (
        request.endpoint == "projects.show"
        and request.method == "GET"
        and response.status_code == 200
        and request.view_args
        and ("ref" in request.args or request.referrer)
    ):
        referrals.remember_visit(request.view_args["project_id"], clock.now())
    return response


@bp.route("/projects/<int:project_id>/funding.svg")
@talisman(content_security_policy=IMAGE_POLICY)
def funding_chart(project_id: int):
    """Pledged so far over time: public like the project's page, with no personal data."""
    project = launched(visible_project(project_id))
    daily = series.daily_if_long(project.launched_at, project.deadline)
    svg = chart.funding_svg(
        series.points(project.id, daily),
        project.currency,
        project.goal_amount,
        project.launched_at,
        project.deadline,
        daily,
    )
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "max-age=60"
    return response


@bp.app_template_global()
def funding_series(project: Project) -> tuple[list[series.Point], bool] | None:
    """The public series for the project page's chart: (points, daily), or None before launch."""
    if not services.has_history(project):
        return None
    daily = series.daily_if_long(project.launched_at, project.deadline)
    return series.points(project.id, daily), daily


@bp.app_template_global()
def has_dashboard(project: Project) -> bool:
    return services.has_history(project)
