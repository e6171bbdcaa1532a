"""The creator's dashboard and the public funding chart of a launched project."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_babel import gettext
from flask_login import current_user, login_required

from app import clock
from app.campaign import chart, series, services
from app.extensions import talisman
from app.projects.models import Project
from app.projects.routes import visible_project

bp = Blueprint("campaign", __name__, template_folder="templates")

# The chart is an image with no script; pygal styles it with a <style> element of its own.
IMAGE_POLICY = {"default-src": "'none'", "style-src": "'unsafe-inline'"}


def launched(project: Project) -> Project:
    if not services.has_history(project):
        abort(404, gettext("The dashboard and the funding chart start when the project launches."))
    return project


@bp.route("/projects/<int:project_id>/dashboard")
@login_required
def dashboard(project_id: int):
    """The creator's (and moderators') view of a live or ended campaign."""
    project = visible_project(project_id)
    if project.owner_id != current_user.id and not current_user.is_moderator:
        abort(403)
    launched(project)
    return render_template(
        "campaign/dashboard.html",
        project=project,
        board=services.dashboard(project, clock.now()),
    )


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
