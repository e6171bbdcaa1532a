"""Project pages: discover, the public page, and the creator's drafts and dashboard."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields import SelectChoice

from app import clock
from app.accounts.verification import NEW_PROJECT, verified_required
from app.extensions import db
from app.payouts import services as payouts
from app.projects import revisions, services, uploads
from app.projects.forms import (
    ConfirmForm,
    LaunchDateForm,
    LiveProjectForm,
    OptionalReasonForm,
    ProjectForm,
)
from app.projects.models import Project, ProjectStatus

bp = Blueprint("projects", __name__, template_folder="templates")


@bp.app_template_filter("revision_field")
def revision_field(field: str) -> str:
    """A revision's field in the reader's language."""
    label = revisions.FIELD_LABELS.get(field)
    return gettext(label) if label else field


@bp.app_context_processor
def _revision_helpers() -> dict:
    return {
        "diff": revisions.diff,
        "revertible": revisions.REVERTIBLE,
        "story_edits": revisions.story_edits,
    }


def visible_project(project_id: int, upcoming: bool = False) -> Project:
    """The project, or 404 when it does not exist or the viewer may not see it; with
    ``upcoming``, an approved project (its pre-launch page) is anyone's to see."""
    project = db.session.get(Project, project_id)
    if project is None:
        abort(404)
    if not (project.visible_to(current_user) or (upcoming and project.may_launch)):
        abort(404)
    return project


def own_project(project_id: int) -> Project:
    """The current user's project; another user's is a 404 (hidden) or 403 (public)."""
    project = visible_project(project_id)
    if project.owner_id != current_user.id:
        abort(403)
    return project


@bp.route("/discover")
def discover():
    query = services.DiscoverQuery(
        q=request.args.get("q", "")[:100],
        category=request.args.get("category", "")[:40],
        sort=request.args.get("sort", "newest")
        if request.args.get("sort") in services.SORTS
        else "newest",
        # Clamped: a huge page number would overflow the database's OFFSET (a 500).
        page=min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000),
    )
    page = services.discover(query, current_app.config["PROJECTS_PER_PAGE"])
    return render_template(
        "projects/discover.html",
        page=page,
        query=query,
        sorts=services.SORTS,
        categories=services.categories(),
        ended=services.recently_ended(),
    )


@bp.url_defaults
def add_slug(endpoint: str, values: dict) -> None:
    """Every link to a project page is its readable URL: ``/projects/123-copperleaf``."""
    if endpoint != "projects.show" or "project_id" not in values:
        return
    if "slug" not in values:
        project = db.session.get(Project, values["project_id"])  # loaded already, as a rule
        values["slug"] = project.slug if project else ""
    if not values["slug"]:
        del values["slug"]  # no readable part: the plain /projects/123


# The id finds the project; the slug after it is only for people. The page answers at the
# readable URL, and any other spelling of it (the old /projects/123, a renamed project's
# former slug) is sent there with a 301, query string kept, once the visitor may see it.
@bp.route("/projects/<int:project_id>")
@bp.route("/projects/<int:project_id>-<slug>")  # registered first (decorators run bottom up)
def show(project_id: int, slug: str = ""):
    project = visible_project(project_id, upcoming=True)
    if slug != project.slug:
        target = url_for("projects.show", project_id=project.id)
        query = request.query_string.decode("latin-1")
        return redirect(f"{target}?{query}" if query else target, 301)
    if not project.visible_to(current_user):  # approved, not launched yet: announced
        return render_template("projects/prelaunch.html", project=project, confirm=ConfirmForm())
    launching = project.status is ProjectStatus.APPROVED and _is_owner(project)
    return render_template(
        "projects/show.html",
        project=project,
        confirm=ConfirmForm(),
        now=clock.now(),
        payout_ready=payouts_ready(project.owner_id) if launching else None,
        launch_date=launch_date_form(project, obj=project) if launching else None,
        launch_needs_payouts=current_app.config["LAUNCH_NEEDS_PAYOUT_ACCOUNT"],
    )


def _is_owner(project: Project) -> bool:
    return current_user.is_authenticated and current_user.id == project.owner_id


def payouts_ready(user_id: int) -> bool:
    """Whether a funded project's payout could be sent to its creator today."""
    return payouts.status_of(payouts.account_of(user_id)) is payouts.PayoutStatus.READY


@bp.route("/my/projects")
@login_required
def mine():
    projects = db.session.scalars(
        select(Project).where(Project.owner_id == current_user.id).order_by(Project.id.desc())
    )
    return render_template(
        "projects/mine.html",
        projects=list(projects),
        queue_position=services.queue_position,
        last_decision=services.last_decision,
        payout_of=payouts.payout_of,
        confirm=ConfirmForm(),
    )


def _category_choices() -> list[SelectChoice]:
    return [SelectChoice(c.id, c.label) for c in services.categories()]


def _form_values(form: LiveProjectForm) -> dict:
    values = {
        "title": form.title.data,
        "blurb": form.blurb.data or "",
        "story": form.story.data or "",
    }
    if isinstance(form, ProjectForm):
        values.update(
            category_id=form.category_id.data,
            currency=form.currency.data,
            goal_amount=form.goal_minor,
            duration_days=form.duration_days.data,
            creator_timezone=form.creator_timezone.data,
            text_language=form.text_language.data,
            country=form.country.data or None,
        )
    return values


def _store_cover(form: LiveProjectForm, zone: str) -> str | bool | None:
    """Store the uploaded cover, if any: its new file name, None when no file was chosen, or
    False when it is refused (the reason is on the form). Nothing is written to the database:
    the caller sets the name and counts the upload (services.record_cover_upload)."""
    file = form.cover.data
    if not file or not getattr(file, "filename", ""):
        return None
    try:
        # Before the work of decoding: an account past its quota costs nothing more.
        services.check_cover_quota(current_user.id, clock.now(), zone)
        return uploads.save_cover(file.read(current_app.config["COVER_MAX_BYTES"] + 1))
    except (uploads.UploadError, services.CoverQuotaReached) as error:
        _cover_refused(form, error)
        return False


def _cover_refused(form: LiveProjectForm, error: Exception) -> None:
    form.cover.errors = [*form.cover.errors, str(error)]
    # Said at the top too: on a long form, or a phone, the field may be out of sight.
    flash(
        gettext(
            "Nothing was saved: the cover image was refused (the reason is under “%(field)s”).",
            field=form.cover.label.text,
        ),
        "danger",
    )


def _refuse_cover(form: LiveProjectForm, name: str, error: Exception) -> None:
    db.session.rollback()
    uploads.remove(name)
    _cover_refused(form, error)


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
@verified_required(NEW_PROJECT)
def new():
    form = ProjectForm(category_choices=_category_choices())
    form.creator_timezone.render_kw = {"data-guess-timezone": "1"}
    quota = services.draft_quota_refusal(current_user.id)
    if quota is None and form.validate_on_submit():
        zone = form.creator_timezone.data
        cover = _store_cover(form, zone)
        if cover is not False:
            try:
                project = services.create_draft(current_user, _form_values(form))
                if cover:
                    project.cover_image = cover
                    services.record_cover_upload(current_user.id, clock.now(), zone)
                db.session.commit()
            except services.DraftQuotaReached as error:  # another tab took the last place
                db.session.rollback()
                uploads.remove(cover)
                quota = str(error)
            except services.CoverQuotaReached as error:
                _refuse_cover(form, cover, error)
            except Exception:
                db.session.rollback()
                uploads.remove(cover)
                raise
            else:
                flash(
                    gettext("Draft saved. Add reward tiers, then submit it for review."), "success"
                )
                return redirect(url_for("projects.edit", project_id=project.id))
    db.session.rollback()
    if quota and request.method == "POST":  # the text is kept to copy; saving cannot work
        form.submit.render_kw = {"disabled": True}
    return render_template(
        "projects/edit.html",
        form=form,
        project=None,
        quota=quota,
        show_form=quota is None or request.method == "POST",
    )


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int):
    project = own_project(project_id)
    if not services.editable_fields(project):
        flash(
            gettext("A %(status)s project cannot be edited.", status=project.status.label),
            "warning",
        )
        return redirect(url_for("projects.mine"))
    if project.is_draft:
        form = ProjectForm(obj=project, category_choices=_category_choices())
        if request.method == "GET":
            form.goal.data = _goal_text(project)
    else:
        form = LiveProjectForm(obj=project)
    # When to try again is said in the creator's time zone (a draft's form may change it).
    zone = getattr(form, "creator_timezone", None) and form.creator_timezone.data
    zone = zone or project.creator_timezone or "UTC"
    if form.validate_on_submit() and (cover := _store_cover(form, zone)) is not False:
        old = project.cover_image
        try:
            # The project's row first, then the account (the lock order of the pledges).
            services.update_project(project, _form_values(form), current_user.id)
            if cover:
                revisions.record(project, current_user.id, "cover", old, cover)
                project.cover_image = cover
                services.record_cover_upload(current_user.id, clock.now(), zone)
            db.session.commit()
        except services.CoverQuotaReached as error:  # another upload took the last place
            _refuse_cover(form, cover, error)
        except Exception:
            db.session.rollback()
            uploads.remove(cover)
            raise
        else:
            if cover and not project.is_live:  # a live one's old cover stays, to revert to
                uploads.remove(old)  # only once the new name is committed
            flash(gettext("Saved."), "success")
            return redirect(url_for("projects.edit", project_id=project.id))
    db.session.rollback()
    return render_template(
        "projects/edit.html",
        form=form,
        project=project,
        checklist=services.checklist(project),
        confirm=ConfirmForm(),
    )


def _goal_text(project: Project) -> str:
    from app.money import to_major_text

    return to_major_text(project.goal_amount, project.currency) if project.goal_amount else ""


@bp.route("/projects/<int:project_id>/submit", methods=["POST"])
@login_required
def submit(project_id: int):
    project = own_project(project_id)
    if ConfirmForm().validate_on_submit():
        services.submit(project, current_user)
        db.session.commit()
        flash(gettext("Submitted for review. A moderator will look at it soon."), "success")
    return redirect(url_for("projects.mine"))


def launch_date_form(project: Project, **kwargs) -> LaunchDateForm:
    today = clock.now().astimezone(ZoneInfo(project.creator_timezone or "UTC")).date()
    return LaunchDateForm(today=today, **kwargs)


@bp.route("/projects/<int:project_id>/launch-date", methods=["POST"])
@login_required
def plan_launch(project_id: int):
    """The creator of an approved project announces the day they plan to launch it."""
    project = own_project(project_id)
    form = launch_date_form(project)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("projects.show", project_id=project.id))
    services.plan_launch(project, form.launch_on.data)  # refused unless approved (UserError)
    db.session.commit()
    flash(
        gettext("Launch date saved: visitors see it on the pre-launch page.")
        if form.launch_on.data
        else gettext("Launch date removed."),
        "success",
    )
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/projects/<int:project_id>/launch", methods=["POST"])
@login_required
def launch(project_id: int):
    project = own_project(project_id)
    if ConfirmForm().validate_on_submit():
        ready = payouts_ready(project.owner_id)
        if not ready and current_app.config["LAUNCH_NEEDS_PAYOUT_ACCOUNT"]:
            flash(
                gettext(
                    "Set up your payout account before you launch: a funded project is paid "
                    "out to it. Connect Stripe from My projects."
                ),
                "warning",
            )
            return redirect(url_for("projects.show", project_id=project.id))
        services.launch(project, current_user)
        db.session.commit()
        flash(gettext("Your project is live! The deadline is now fixed."), "success")
        if not ready:
            flash(
                gettext(
                    "Your payout account is not ready yet. If the project is funded, the "
                    "payout waits until you finish setting it up with Stripe."
                ),
                "warning",
            )
    return redirect(url_for("projects.show", project_id=project.id))


@bp.route("/projects/<int:project_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(project_id: int):
    project = own_project(project_id)
    form = OptionalReasonForm()
    if form.validate_on_submit():
        services.cancel(project, current_user, form.reason.data or "")
        db.session.commit()
        flash(gettext("The project is cancelled. Every backer will be refunded in full."), "info")
        return redirect(url_for("projects.show", project_id=project.id))
    return render_template("projects/cancel.html", project=project, form=form)


@bp.route("/uploads/<name>")
def upload(name: str):
    if not uploads.STORED_NAME.match(name):
        abort(404)
    # A cover is served only to those who may see its project: a draft is not public hosting.
    project = db.session.scalar(select(Project).where(Project.cover_image == name).limit(1))
    if project is None and current_user.is_authenticated and current_user.is_moderator:
        # A live project's earlier cover, kept so a moderator can see and revert the change.
        project = revisions.project_with_cover(name)
    if project is None or not (project.visible_to(current_user) or project.may_launch):
        abort(404)  # an approved project's cover is on its pre-launch page
    ext = name.rsplit(".", 1)[1]
    response = send_from_directory(
        uploads.upload_dir(), name, mimetype=uploads.CONTENT_TYPES[ext], max_age=86400
    )
    if not project.is_public:  # never kept by a shared cache
        response.cache_control.public = False
        response.cache_control.private = True
    return response


@bp.route("/projects/<int:project_id>/changes")
def changes(project_id: int):
    """What the creator changed in the story since launch, for backers to read."""
    project = visible_project(project_id)
    if not project.is_public:
        abort(404)
    return render_template(
        "projects/changes.html", project=project, edits=revisions.story_edits(project.id)
    )
