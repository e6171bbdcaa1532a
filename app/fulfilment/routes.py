"""Fulfilment: the creator's page (ship one, a tier, or a CSV), the backer's confirmation and
problem report, and the shares shown on project pages and profiles."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from app.extensions import db
from app.fulfilment import domain, services
from app.fulfilment.forms import ProblemForm, ReceivedForm, ShipForm, ShipTierForm, UploadForm
from app.i18n import N_
from app.pledges.routes import own_pledge
from app.projects.models import Project
from app.projects.routes import visible_project

bp = Blueprint("fulfilment", __name__, template_folder="templates")
ALREADY_REPORTED = N_("You have reported a problem already: the creator was told.")


# ---- on other packages' pages ------------------------------------------------------------


@bp.app_template_global()
def delivery_share(project: Project) -> services.Delivery | None:
    """The project page's "83% of rewards delivered": paid-out projects with rewards only."""
    return services.delivery_of(project) if services.may_fulfil(project) else None


@bp.app_template_global()
def delivery_record(user_id: int) -> services.Record:
    return services.record_of(user_id)


@bp.app_template_global()
def pledge_shipment(pledge) -> services.Shipment | None:
    return services.shipment_of(pledge.id)


@bp.app_template_global()
def received_form() -> ReceivedForm:
    return ReceivedForm()


# ---- the creator --------------------------------------------------------------------------


def fulfilment_project(project_id: int) -> Project:
    """The project if the viewer fulfils it: its owner, moderators and admins. Hidden ones
    are a 404 to others, public ones a 403; before launch there is nothing to ship (404)."""
    project = visible_project(project_id)
    if project.owner_id != current_user.id and not current_user.is_moderator:
        abort(403)
    if project.launched_at is None:
        abort(404)
    return project


def _back(project: Project):
    after = request.args.get("after", type=int)
    return redirect(url_for("fulfilment.manage", project_id=project.id, after=after))


def _refused_unless_fulfillable(project: Project):
    if not services.may_fulfil(project):
        flash(gettext("Rewards can be marked as shipped once the project is paid out."), "warning")
        return redirect(url_for("fulfilment.manage", project_id=project.id))
    return None


def _cursor() -> int | None:
    value = request.args.get("after", type=int)
    return value if value is not None and 0 <= value <= services.MAX_CURSOR else None


def _render_manage(project: Project, upload: UploadForm | None = None, errors=None, status=200):
    return (
        render_template(
            "fulfilment/manage.html",
            project=project,
            may_fulfil=services.may_fulfil(project),
            delivery=services.delivery_of(project),
            tiers=services.tier_counts(project),
            page=services.page_of(project, after=_cursor()),
            after=_cursor(),
            ship_form=ShipForm(),
            tier_form=ShipTierForm(),
            upload=upload or UploadForm(),
            line_errors=errors or [],
        ),
        status,
    )


@bp.route("/projects/<int:project_id>/fulfilment")
@login_required
def manage(project_id: int):
    return _render_manage(fulfilment_project(project_id))


@bp.route("/projects/<int:project_id>/fulfilment/pledges/<int:pledge_id>", methods=["POST"])
@login_required
def ship(project_id: int, pledge_id: int):
    project = fulfilment_project(project_id)
    if refused := _refused_unless_fulfillable(project):
        return refused
    form = ShipForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return _back(project)
    try:
        tracking = form.tracking_number.data or ""
        mailed = services.mark_one(project, pledge_id, tracking, current_user.id)
    except services.FulfilmentRefused as refused:
        db.session.rollback()
        flash(gettext(str(refused)), "warning")
        return _back(project)
    db.session.commit()
    if mailed:
        message = gettext("Pledge %(id)d is shipped; its backer is e-mailed.", id=pledge_id)
        flash(message, "success")
    else:
        message = gettext("Pledge %(id)d was already marked so: nothing changed.", id=pledge_id)
        flash(message, "info")
    return _back(project)


@bp.route("/projects/<int:project_id>/fulfilment/tiers/<int:tier_id>", methods=["POST"])
@login_required
def ship_tier(project_id: int, tier_id: int):
    project = fulfilment_project(project_id)
    if refused := _refused_unless_fulfillable(project):
        return refused
    if not ShipTierForm().validate_on_submit():
        flash(gettext("The form had expired: try again."), "danger")
        return _back(project)
    try:
        marked = services.mark_tier(project, tier_id, current_user.id)
    except services.FulfilmentRefused as refused:
        db.session.rollback()
        flash(gettext(str(refused)), "warning")
        return _back(project)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d pledge is marked as shipped; its backer is e-mailed.",
            "%(num)d pledges are marked as shipped; their backers are e-mailed.",
            marked,
        )
        if marked
        else gettext("Every pledge of this reward was already marked as shipped."),
        "success" if marked else "info",
    )
    return _back(project)


@bp.route("/projects/<int:project_id>/fulfilment/upload", methods=["POST"])
@login_required
def upload(project_id: int):
    project = fulfilment_project(project_id)
    if refused := _refused_unless_fulfillable(project):
        return refused
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_manage(project, form, status=422)
    data = form.tracking.data.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    try:
        lines, errors = domain.parse_csv(data)
    except domain.CsvRefused as refused:
        form.tracking.errors = [gettext(str(refused))]
        return _render_manage(project, form, status=422)
    errors = sorted([*errors, *services.check_lines(project, lines)], key=lambda e: e.number)
    if errors:
        db.session.rollback()
        return _render_manage(project, form, errors, status=422)
    try:
        mailed = services.mark_lines(project, lines, current_user.id)
    except services.FulfilmentRefused as refused:
        db.session.rollback()
        flash(gettext(str(refused)), "warning")
        return _back(project)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d line read; %(mailed)d backers are e-mailed.",
            "%(num)d lines read; %(mailed)d backers are e-mailed.",
            len(lines),
            mailed=mailed,
        ),
        "success",
    )
    return _back(project)


# ---- the backer ---------------------------------------------------------------------------


def _shipment_of_own(pledge_id: int):
    pledge = own_pledge(pledge_id)
    shipment = services.shipment_of(pledge.id)
    if shipment is None:
        flash(gettext("Your reward has not been marked as shipped yet."), "warning")
        abort(redirect(url_for("pledges.show", pledge_id=pledge.id)))
    return pledge, shipment


@bp.route("/pledges/<int:pledge_id>/received", methods=["POST"])
@login_required
def received(pledge_id: int):
    pledge, shipment = _shipment_of_own(pledge_id)
    if not ReceivedForm().validate_on_submit():
        flash(gettext("The form had expired: try again."), "danger")
        return redirect(url_for("pledges.show", pledge_id=pledge.id))
    if services.confirm_received(shipment):
        db.session.commit()
        flash(gettext("Thank you: the creator sees that your reward arrived."), "success")
    else:
        db.session.rollback()
        flash(gettext("You had already confirmed that your reward arrived."), "info")
    return redirect(url_for("pledges.show", pledge_id=pledge.id))


@bp.route("/pledges/<int:pledge_id>/problem", methods=["GET", "POST"])
@login_required
def problem(pledge_id: int):
    pledge, shipment = _shipment_of_own(pledge_id)
    if shipment.has_problem:
        flash(gettext(ALREADY_REPORTED), "warning")
        return redirect(url_for("pledges.show", pledge_id=pledge.id))
    form = ProblemForm()
    if form.validate_on_submit():
        try:
            reported = services.report_problem(shipment, form.problem.data)
        except services.FulfilmentRefused as refused:
            db.session.rollback()
            form.problem.errors = [gettext(str(refused))]
        else:
            if reported:
                db.session.commit()
                flash(gettext("The creator is told and will be in touch."), "success")
            else:
                db.session.rollback()
                flash(gettext(ALREADY_REPORTED), "warning")
            return redirect(url_for("pledges.show", pledge_id=pledge.id))
    return render_template("fulfilment/problem.html", pledge=pledge, shipment=shipment, form=form)
