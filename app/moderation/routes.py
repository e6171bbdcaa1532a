"""The review queue and moderators' decisions."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app import clock
from app.extensions import db
from app.i18n import N_
from app.ledger import services as ledger
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects import revisions, services
from app.projects.forms import ConfirmForm, OptionalReasonForm, ReasonForm
from app.projects.models import Project, ProjectRevision

bp = Blueprint("moderation", __name__, url_prefix="/moderation", template_folder="templates")


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def moderator_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_moderator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _project(project_id: int) -> Project:
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    return project


@bp.route("/")
@moderator_required
def queue():
    return render_template(
        "moderation/queue.html",
        projects=services.review_queue(),
        flagged=pledge_services.needing_attention(),
        held_projects=services.settlement_held(),
        now=clock.now(),
        confirm=ConfirmForm(),
    )


@bp.route("/projects/<int:project_id>")
@moderator_required
def review(project_id: int):
    project = _project(project_id)
    return render_template(
        "moderation/review.html",
        money=ledger.transactions_of(project.id),
        project=project,
        checklist=services.checklist(project),
        approve_form=OptionalReasonForm(prefix="approve"),
        changes_form=ReasonForm(prefix="changes"),
        reject_form=ReasonForm(prefix="reject"),
        suspend_form=ReasonForm(prefix="suspend"),
        confirm=ConfirmForm(),
        revisions=revisions.of_project(project.id),
    )


DECISIONS = {
    "approve": (
        services.approve,
        OptionalReasonForm,
        N_("Approved: the creator can now launch it."),
    ),
    "request-changes": (
        services.request_changes,
        ReasonForm,
        N_("Changes requested: the project is back with its creator."),
    ),
    "reject": (services.reject, ReasonForm, N_("Rejected.")),
    "suspend": (
        services.suspend,
        ReasonForm,
        N_("Suspended: every backer will be refunded in full."),
    ),
}
PREFIXES = {
    "approve": "approve",
    "request-changes": "changes",
    "reject": "reject",
    "suspend": "suspend",
}


@bp.route(
    "/projects/<int:project_id>/<any(approve, 'request-changes', reject, suspend):decision>",
    methods=["POST"],
)
@moderator_required
def decide(project_id: int, decision: str):
    project = _project(project_id)
    action, form_class, done = DECISIONS[decision]
    form = form_class(prefix=PREFIXES[decision])
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for("moderation.review", project_id=project.id))
    action(project, current_user, form.reason.data or "")
    db.session.commit()
    flash(gettext(done), "success")
    if decision == "suspend":
        return redirect(url_for("projects.show", project_id=project.id))
    return redirect(url_for("moderation.queue"))


@bp.route("/pledges/<int:pledge_id>/retry-refund", methods=["POST"])
@admin_required
def retry_refund(pledge_id: int):
    """Admins resolve money that needs a human: try a refused refund again."""
    if db.session.get(Pledge, pledge_id) is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        checkout.retry_refused_refund(pledge_id)
        pledge = db.session.get(Pledge, pledge_id)
        if pledge.status is PledgeStatus.REFUNDED:
            flash(gettext("Pledge #%(id)s is refunded.", id=pledge_id), "success")
        elif pledge.status is PledgeStatus.HELD and not pledge.refused_difference:
            flash(gettext("Pledge #%(id)s: the difference is refunded.", id=pledge_id), "success")
        else:
            flash(
                gettext(
                    "Pledge #%(id)s: the refund is %(status)s.",
                    id=pledge_id,
                    status=pledge.status.label,
                ),
                "warning",
            )
    return redirect(url_for("moderation.queue"))


@bp.route("/revisions/<int:revision_id>/revert", methods=["POST"])
@moderator_required
def revert(revision_id: int):
    """Put back what a live project's field said before the creator changed it."""
    revision = db.session.get(ProjectRevision, revision_id)
    if revision is None:
        abort(404)
    project_id = revision.project_id
    if ConfirmForm().validate_on_submit():
        try:
            revisions.revert(revision, current_user.id)
        except revisions.RevertRefused as refused:
            db.session.rollback()
            flash(gettext(str(refused)), "warning")
        else:
            db.session.commit()
            flash(gettext("Change reverted."), "success")
    return redirect(url_for("moderation.review", project_id=project_id) + "#changes")
