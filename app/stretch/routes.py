"""Stretch goals: the creator manages them (from the project's edit page); the project page
shows the ladder (``stretch_ladder``)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from app.extensions import db
from app.money import to_major_text
from app.projects.forms import ConfirmForm
from app.projects.models import Project
from app.projects.routes import own_project
from app.stretch import services
from app.stretch.forms import StretchGoalForm
from app.stretch.models import StretchGoal

bp = Blueprint("stretch", __name__, template_folder="templates")


@bp.app_template_global()
def stretch_ladder(project: Project) -> services.Ladder:
    return services.ladder(project)


@bp.app_template_global()
def stretch_goals_of(project: Project) -> list[StretchGoal]:
    return services.of_project(project.id)


def own_goal(goal_id: int) -> StretchGoal:
    goal = db.session.get(StretchGoal, goal_id)
    if goal is None:
        abort(404)
    own_project(goal.project_id)  # 404 or 403 exactly as for the project itself
    return goal


def _back_to(project_id: int):
    return redirect(url_for("projects.edit", project_id=project_id) + "#stretch-goals")


def _editable(project: Project):
    """Nothing to manage once the project is past draft or live: back to its page."""
    if not project.is_editable:
        flash(gettext("Stretch goals cannot change while the project is %(status)s.",
                      status=project.status.label), "warning")  # fmt: skip
        return redirect(url_for("projects.show", project_id=project.id))
    return None


def _save(form: StretchGoalForm, save) -> bool:
    """Run ``save`` on valid input; a refused rule becomes an error on the form."""
    if not form.validate_on_submit():
        return False
    try:
        save(form.values())
    except services.StretchGoalError as error:
        db.session.rollback()
        form.amount.errors = [*form.amount.errors, str(error)]
        return False
    db.session.commit()
    return True


@bp.route("/projects/<int:project_id>/stretch-goals/new", methods=["GET", "POST"])
@login_required
def new(project_id: int):
    project = own_project(project_id)
    if (refused := _editable(project)) is not None:
        return refused
    form = StretchGoalForm(currency=project.currency)
    if _save(form, lambda values: services.add_goal(project, values)):
        flash(gettext("Stretch goal added."), "success")
        return _back_to(project_id)
    project = db.session.get(Project, project_id)
    return render_template("stretch/edit.html", form=form, project=project, goal=None)


@bp.route("/stretch-goals/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(goal_id: int):
    goal = own_goal(goal_id)
    project_id = goal.project_id
    project = db.session.get(Project, project_id)
    if (refused := _editable(project)) is not None:
        return refused
    form = StretchGoalForm(obj=goal, currency=project.currency)
    if not form.is_submitted():
        form.amount.data = to_major_text(goal.amount, project.currency)
    if _save(form, lambda values: services.update_goal(goal, values)):
        flash(gettext("Stretch goal saved."), "success")
        return _back_to(project_id)
    goal = db.session.get(StretchGoal, goal_id)
    project = db.session.get(Project, project_id)
    return render_template("stretch/edit.html", form=form, project=project, goal=goal)


@bp.route("/stretch-goals/<int:goal_id>/delete", methods=["POST"])
@login_required
def delete(goal_id: int):
    goal = own_goal(goal_id)
    project_id = goal.project_id
    if ConfirmForm().validate_on_submit():
        services.delete_goal(goal)  # a refusal: the error handler shows why, nothing changed
        db.session.commit()
        flash(gettext("Stretch goal removed."), "info")
    return _back_to(project_id)
