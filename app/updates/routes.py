"""Updates: the list and a page per update for whoever may see the project; the creator
writes, edits and removes them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from app import clock
from app.extensions import db, limiter
from app.projects import services as projects
from app.projects import uploads
from app.projects.models import Project
from app.projects.routes import own_project, visible_project
from app.updates import services
from app.updates.forms import BACKERS, PUBLIC, EditUpdateForm, RemoveForm, UpdateForm
from app.updates.models import Update

bp = Blueprint("updates", __name__, template_folder="templates")
SECTION_SIZE = 3  # the newest updates on the project page


@dataclass(frozen=True)
class Section:
    updates: list[Update]  # the newest few
    total: int
    reads: object  # update -> bool: the reader sees its full text
    may_post: bool


@bp.app_template_global()
def updates_section(project: Project) -> Section:
    """The project page's updates: the newest few, and whether the reader may write one."""
    found = services.of_project(project.id)
    owner = current_user.is_authenticated and current_user.id == project.owner_id
    return Section(
        found[:SECTION_SIZE],
        len(found),
        services.full_readers_check(project, current_user),
        owner and services.may_post(project),
    )


def _update_of(project: Project, number: int) -> Update:
    update = services.find(project.id, number)
    if update is None:
        abort(404)
    return update


def _own_update(project_id: int, number: int) -> tuple[Project, Update]:
    project = own_project(project_id)
    update = _update_of(project, number)
    if update.is_deleted:
        flash(gettext("This update was removed."), "warning")
        abort(redirect(url_for("updates.show", project_id=project.id, number=number)))
    return project, update


def _store_image(form: UpdateForm) -> str | bool | None:
    """The uploaded image's stored name, None when none was chosen, False when refused (the
    reason is on the form). Covers' checks and re-encoding, and their quota."""
    file = form.image.data
    if not file or not getattr(file, "filename", ""):
        return None
    try:
        projects.check_cover_quota(current_user.id, clock.now())
        return uploads.save_cover(file.read(current_app.config["COVER_MAX_BYTES"] + 1))
    except (uploads.UploadError, projects.CoverQuotaReached) as error:
        form.image.errors = [*form.image.errors, str(error)]
        return False


def _count_image(form: UpdateForm, image: str | None) -> bool:
    """Count a stored image toward the quota; False (rolled back, file removed) if another
    upload took the last place meanwhile."""
    if not image:
        return True
    try:
        projects.record_cover_upload(current_user.id, clock.now())
    except projects.CoverQuotaReached as error:
        db.session.rollback()
        uploads.remove(image)
        form.image.errors = [*form.image.errors, str(error)]
        return False
    return True


@bp.route("/projects/<int:project_id>/updates")
def index(project_id: int):
    project = visible_project(project_id)
    return render_template(
        "updates/index.html",
        project=project,
        updates=services.of_project(project.id),
        reads=services.full_readers_check(project, current_user),
        may_post=current_user.is_authenticated
        and current_user.id == project.owner_id
        and services.may_post(project),
    )


@bp.route("/projects/<int:project_id>/updates/<int:number>")
def show(project_id: int, number: int):
    project = visible_project(project_id)
    update = _update_of(project, number)
    return render_template(
        "updates/show.html",
        project=project,
        update=update,
        full=services.full_readers_check(project, current_user)(update),
        is_owner=current_user.is_authenticated and current_user.id == project.owner_id,
    )


@bp.route("/projects/<int:project_id>/updates/new", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["UPDATE_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    methods=["POST"],
    scope="updates-account",
    error_message=lambda: gettext("You have published many updates lately. Try again later."),
)
def new(project_id: int):
    project = own_project(project_id)
    if not services.may_post(project):
        flash(gettext("Updates can be posted once the project has launched."), "warning")
        return redirect(url_for("projects.show", project_id=project.id))
    form = UpdateForm()
    del form.remove_image  # nothing to remove yet
    if form.validate_on_submit() and (image := _store_image(form)) is not False:
        try:
            update = services.publish(
                project, current_user.id, form.title.data, form.body.data, form.public, image
            )
        except services.UpdateRefused as refused:
            db.session.rollback()
            uploads.remove(image)
            flash(gettext(str(refused)), "warning")
        else:
            if _count_image(form, image):
                db.session.commit()
                flash(gettext("Update #%(number)d is published.", number=update.number), "success")
                return redirect(
                    url_for("updates.show", project_id=project.id, number=update.number)
                )
    db.session.rollback()
    return render_template("updates/edit.html", project=project, form=form, update=None)


@bp.route("/projects/<int:project_id>/updates/<int:number>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int, number: int):
    project, update = _own_update(project_id, number)
    form = EditUpdateForm(obj=update)
    if not form.is_submitted():
        form.audience.data = PUBLIC if update.public else BACKERS
    if form.validate_on_submit() and (image := _store_image(form)) is not False:
        old = update.image
        keep = None if form.remove_image.data else old
        services.edit(update, form.title.data, form.body.data, form.public, image or keep)
        if _count_image(form, image):
            db.session.commit()
            if old and old != update.image:
                uploads.remove(old)  # only once the new state is committed
            flash(gettext("Saved. Nobody is e-mailed about an edit."), "success")
            return redirect(url_for("updates.show", project_id=project.id, number=number))
    db.session.rollback()
    return render_template("updates/edit.html", project=project, form=form, update=update)


@bp.route("/projects/<int:project_id>/updates/<int:number>/remove", methods=["GET", "POST"])
@login_required
def remove(project_id: int, number: int):
    project, update = _own_update(project_id, number)
    form = RemoveForm()
    if form.validate_on_submit():
        if services.remove(update, current_user.id, form.reason.data):
            db.session.commit()
            flash(gettext("Update #%(number)d was removed.", number=number), "info")
        else:
            db.session.rollback()
            flash(gettext("This update was removed."), "warning")
        return redirect(url_for("updates.show", project_id=project.id, number=number))
    return render_template("updates/remove.html", project=project, update=update, form=form)


@bp.route("/updates/images/<image>")
def image(image: str):
    """An update's image, to those who read the update in full."""
    if not uploads.STORED_NAME.match(image):
        abort(404)
    update = db.session.scalar(select(Update).where(Update.image == image).limit(1))
    project = db.session.get(Project, update.project_id) if update else None
    if project is None or not project.visible_to(current_user):
        abort(404)
    if not services.full_readers_check(project, current_user)(update):
        abort(404)
    if update.is_deleted and not (current_user.is_authenticated and current_user.is_moderator):
        abort(404)
    ext = image.rsplit(".", 1)[1]
    response = send_from_directory(
        uploads.upload_dir(), image, mimetype=uploads.CONTENT_TYPES[ext], max_age=3600
    )
    if not update.public:  # never kept by a shared cache
        response.cache_control.public = False
        response.cache_control.private = True
    return response
