"""Creating and changing reward tiers (the project's owner only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.i18n import countries
from app.i18n import web as i18n_web
from app.money import to_major_text
from app.projects.forms import ConfirmForm
from app.projects.routes import own_project
from app.rewards import domain, services
from app.rewards.forms import TierForm
from app.rewards.models import RewardTier

bp = Blueprint("rewards", __name__, template_folder="templates")


@bp.app_template_filter("destination_name")
def destination_name(destination: str, home: str | None = None) -> str:
    """A shipping rule's destination as a reader says it: "Europe", "Germany", "欧洲"; with
    ``home`` (the project's country), "domestic" is that country's name."""
    if destination == domain.DOMESTIC and home:
        return countries.name(home, i18n_web.current())
    if domain.is_region(destination):
        return gettext(domain.REGION_LABELS[destination])
    return countries.name(destination, i18n_web.current())


def own_tier(tier_id: int) -> RewardTier:
    tier = db.session.get(RewardTier, tier_id)
    if tier is None:
        abort(404)
    own_project(tier.project_id)  # 404 or 403 exactly as for the project itself
    return tier


def _back_to(project_id: int):
    return redirect(url_for("projects.edit", project_id=project_id) + "#tiers")


@bp.route("/projects/<int:project_id>/tiers/new", methods=["GET", "POST"])
@login_required
def new(project_id: int):
    project = own_project(project_id)
    form = TierForm(
        currency=project.currency, home=project.country, floor=services.floor(project.currency)
    )
    if form.validate_on_submit():
        services.add_tier(project, form.values(), current_user.id)
        db.session.commit()
        flash(gettext("Reward tier added."), "success")
        return _back_to(project.id)
    return render_template("rewards/edit.html", form=form, project=project, tier=None)


@bp.route("/tiers/<int:tier_id>/edit", methods=["GET", "POST"])
@login_required
def edit(tier_id: int):
    tier = own_tier(tier_id)
    project = tier.project
    # A tier made before the floor rose keeps its minimum; it may not go lower.
    floor = min(services.floor(project.currency), tier.minimum_amount)
    form = TierForm(obj=tier, currency=project.currency, home=project.country, floor=floor)
    if not form.is_submitted():
        form.minimum.data = to_major_text(tier.minimum_amount, project.currency)
        form.ships.data = tier.ships
        form.fill_rules(tier.rules)
    if form.validate_on_submit():
        services.update_tier(tier, form.values(), current_user.id)
        db.session.commit()
        flash(gettext("Reward tier saved."), "success")
        return _back_to(project.id)
    return render_template("rewards/edit.html", form=form, project=project, tier=tier)


@bp.route("/tiers/<int:tier_id>/delete", methods=["POST"])
@login_required
def delete(tier_id: int):
    tier = own_tier(tier_id)
    project_id = tier.project_id
    if ConfirmForm().validate_on_submit():
        services.delete_tier(tier, current_user.id)
        db.session.commit()
        flash(gettext("Reward tier deleted."), "info")
    return _back_to(project_id)


@bp.route("/tiers/<int:tier_id>/close", methods=["POST"])
@login_required
def close(tier_id: int):
    tier = own_tier(tier_id)
    if ConfirmForm().validate_on_submit():
        services.set_closed(tier, not tier.is_closed)
        db.session.commit()
        flash(
            gettext("Tier closed to new pledges.")
            if tier.is_closed
            else gettext("Tier open again."),
            "info",
        )
    return _back_to(tier.project_id)
