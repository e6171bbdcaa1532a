"""Creating and changing add-ons (the project's owner only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from app.addons import services
from app.addons.forms import AddonForm
from app.addons.models import Addon
from app.extensions import db
from app.money import to_major_text
from app.projects.forms import ConfirmForm
from app.projects.routes import own_project

bp = Blueprint("addons", __name__, template_folder="templates")


def own_addon(addon_id: int) -> Addon:
    addon = db.session.get(Addon, addon_id)
    if addon is None:
        abort(404)
    own_project(addon.project_id)  # 404 or 403 exactly as for the project itself
    return addon


def _back_to(project_id: int):
    return redirect(url_for("projects.edit", project_id=project_id) + "#addons")


@bp.route("/projects/<int:project_id>/addons/new", methods=["GET", "POST"])
@login_required
def new(project_id: int):
    project = own_project(project_id)
    form = AddonForm(currency=project.currency, home=project.country)
    if form.validate_on_submit():
        services.add_addon(project, form.values())
        db.session.commit()
        flash(gettext("Add-on added."), "success")
        return _back_to(project.id)
    return render_template("addons/edit.html", form=form, project=project, addon=None)


@bp.route("/addons/<int:addon_id>/edit", methods=["GET", "POST"])
@login_required
def edit(addon_id: int):
    addon = own_addon(addon_id)
    project = addon.project
    form = AddonForm(obj=addon, currency=project.currency, home=project.country)
    if not form.is_submitted():
        form.minimum.data = to_major_text(addon.price, project.currency)
        form.ships.data = addon.ships
        form.fill_rules(addon.rules)
    if form.validate_on_submit():
        services.update_addon(addon, form.values())
        db.session.commit()
        flash(gettext("Add-on saved."), "success")
        return _back_to(project.id)
    return render_template("addons/edit.html", form=form, project=project, addon=addon)


@bp.route("/addons/<int:addon_id>/delete", methods=["POST"])
@login_required
def delete(addon_id: int):
    addon = own_addon(addon_id)
    project_id = addon.project_id
    if ConfirmForm().validate_on_submit():
        services.delete_addon(addon)
        db.session.commit()
        flash(gettext("Add-on deleted."), "info")
    return _back_to(project_id)


@bp.route("/addons/<int:addon_id>/close", methods=["POST"])
@login_required
def close(addon_id: int):
    addon = own_addon(addon_id)
    if ConfirmForm().validate_on_submit():
        services.set_closed(addon, not addon.is_closed)
        db.session.commit()
        flash(
            gettext("Add-on closed to new pledges.")
            if addon.is_closed
            else gettext("Add-on open again."),
            "info",
        )
    return _back_to(addon.project_id)
