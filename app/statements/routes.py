"""The statement of an ended project, and its backers as CSV, for its creator and moderators;
its public money page and hash-chained ledger export, for anyone."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required

from app.projects.models import Project
from app.projects.routes import visible_project
from app.statements import services

bp = Blueprint("statements", __name__, template_folder="templates")


def statement_project(project_id: int) -> Project:
    """The project if the viewer may read its money: its owner, moderators and admins.

    Hidden projects are a 404 to everyone else (as elsewhere), public ones a 403; a project
    whose outcome is not known yet has no statement (404, saying so).
    """
    project = visible_project(project_id)
    if project.owner_id != current_user.id and not current_user.is_moderator:
        abort(403)
    if not services.has_statement(project):
        abort(
            404,
            gettext(
                "There is no statement yet: this project is %(status)s. It has one once it "
                "has ended.",
                status=project.status.label,
            ),
        )
    return project


def cursor(name: str) -> int | None:
    """A pledge id to page from, or None (the first page) unless it is a whole number that can
    be a pledge id: like a bad page number on the discover page, a bad one is ignored."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= services.MAX_CURSOR else None


@bp.route("/projects/<int:project_id>/statement")
@login_required
def show(project_id: int):
    project = statement_project(project_id)
    return render_template(
        "statements/show.html",
        project=project,
        statement=services.statement(project),
        page=services.pledge_page(project.id, after=cursor("after"), before=cursor("before")),
        csv_pledges=services.csv_pledges(project),
    )


@bp.route("/projects/<int:project_id>/statement/backers.csv")
@login_required
def backers_csv(project_id: int):
    project = statement_project(project_id)
    response = Response(services.backers_csv(project), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="project-{project.id}-backers.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def ended_public_project(project_id: int) -> Project:
    """A public project whose outcome is known (404, saying so, before that)."""
    project = visible_project(project_id)
    if not services.has_statement(project):
        abort(
            404,
            gettext(
                "Where the money went is shown once the project has ended; it is %(status)s.",
                status=project.status.label,
            ),
        )
    return project


@bp.route("/projects/<int:project_id>/money")
def money(project_id: int):
    """Anyone: what was charged, refunded, kept in fees and paid out, and the last check of
    these books against Stripe. No backer is named."""
    project = ended_public_project(project_id)
    check = services.latest_reconciliation(project.id)
    return render_template(
        "statements/money.html",
        project=project,
        statement=services.statement(project),
        check=check,
        differences=services.public_differences(check.differences) if check else [],
    )


@bp.route("/projects/<int:project_id>/ledger.jsonl")
def ledger_export(project_id: int):
    """The project's ledger as hash-chained JSON lines (``app.ledger.chain``), streamed."""
    project = ended_public_project(project_id)
    response = Response(services.export_stream(project.id), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = (
        f'inline; filename="project-{project.id}-ledger.jsonl"'
    )
    return response
