"""A project's comments: the thread page, posting and replying, editing, deleting, hiding."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from app import clock
from app.accounts.models import User
from app.comments import services
from app.comments.forms import CommentForm, EditForm, HideForm
from app.comments.models import Comment, HiddenBy
from app.extensions import db, limiter
from app.projects.forms import ConfirmForm
from app.projects.models import Project
from app.projects.routes import visible_project
from app.updates.models import Update

bp = Blueprint("comments", __name__, template_folder="templates")


@dataclass(frozen=True)
class ThreadView:
    """A thread as its reader sees it: the comments, and what the reader may do."""

    thread: services.Thread
    url: str  # the page the thread is on: the project's comments, or the update's page
    refusal: str | None  # why the reader may not post ("login", "closed", "backers")
    hider: HiddenBy | None  # as whom the reader may hide comments
    is_moderator: bool
    accepting: bool  # pledges are taken: a reader who may not post is shown the way in
    form: CommentForm
    confirm: ConfirmForm


@bp.app_template_global()
def comment_thread(project: Project, update: Update | None = None, page: int = 1) -> ThreadView:
    """The project's (or one update's) comments for the page that includes them."""
    return ThreadView(
        thread=services.thread(project, update.id if update else None, page),
        url=_thread_url(project.id, update),
        refusal=services.why_not(project, current_user),
        hider=services.hider_role(project, current_user),
        is_moderator=current_user.is_authenticated and current_user.is_moderator,
        accepting=project.is_live and bool(project.deadline) and project.deadline > clock.now(),
        form=CommentForm(formdata=None),
        confirm=ConfirmForm(),
    )


@bp.app_template_global()
def comment_editable(comment: Comment) -> bool:
    return services.may_edit(comment, current_user)


def _thread_url(project_id: int, update: Update | None) -> str:
    if update is None:
        return url_for("comments.thread", project_id=project_id)
    return url_for("updates.show", project_id=project_id, number=update.number)


@bp.app_template_global()
def comment_url(comment: Comment) -> str:
    """The comment in its thread (the project's comments, or its update's page)."""
    update = db.session.get(Update, comment.update_id) if comment.update_id else None
    return f"{_thread_url(comment.project_id, update)}#comment-{comment.id}"


def comment_of(comment_id: int) -> tuple[Comment, Project]:
    """The comment and its project, or 404 when either is not there for the reader (a
    comment on an update is there for those who may read the update)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    project = visible_project(comment.project_id)
    update = db.session.get(Update, comment.update_id) if comment.update_id else None
    if update is not None and not services.may_read_update(update, current_user):
        abort(404)
    return comment, project


def _own_comment(comment_id: int) -> tuple[Comment, Project]:
    comment, project = comment_of(comment_id)
    if comment.author_id != current_user.id:
        abort(403)
    return comment, project


def _to_thread(project_id: int, comment_id: int | None = None, update: Update | None = None):
    """Back to the thread, at the comment if there is one."""
    anchor = f"#comment-{comment_id}" if comment_id else "#comments"
    return redirect(_thread_url(project_id, update) + anchor)


def _to_comment(comment: Comment):
    return redirect(comment_url(comment))


@bp.route("/projects/<int:project_id>/comments")
def thread(project_id: int):
    project = visible_project(project_id)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    return render_template(
        "comments/thread.html", project=project, view=comment_thread(project, None, page)
    )


@bp.route("/projects/<int:project_id>/comments/new", methods=["POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["COMMENT_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    scope="comments-account",
    error_message=lambda: gettext("You have posted many comments lately. Try again later."),
)
def post(project_id: int):
    """A comment, or (with ``parent_id``) a reply."""
    project = visible_project(project_id)
    update = None
    if request.args.get("update") is not None:  # a comment on one of its updates
        update = db.session.get(Update, request.args.get("update", type=int) or 0)
        ours = update is not None and update.project_id == project.id
        if not (ours and services.may_read_update(update, current_user)):
            abort(404)
    form = CommentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(gettext("Your comment: %(error)s", error=error), "danger")
        return _to_thread(project.id, form.parent_id.data or None, update)
    try:
        comment = services.post(
            project, current_user, form.body.data, form.parent_id.data, update=update
        )
    except services.CommentRefused as refused:
        flash(gettext(str(refused)), "warning")
        return _to_thread(project.id, None, update)
    db.session.commit()
    flash(
        gettext("Your reply is posted.")
        if comment.is_reply
        else gettext("Your comment is posted."),
        "success",
    )
    return _to_comment(comment)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(comment_id: int):
    comment, project = _own_comment(comment_id)
    if not services.may_edit(comment, current_user):
        flash(gettext("This comment can no longer be edited."), "warning")
        return _to_comment(comment)
    form = EditForm(obj=comment)
    if form.validate_on_submit():
        try:
            services.edit(comment, form.body.data)
        except services.CommentRefused as refused:
            db.session.rollback()
            flash(gettext(str(refused)), "warning")
            return _to_comment(comment)
        db.session.commit()
        flash(gettext("Comment saved."), "success")
        return _to_comment(comment)
    return render_template("comments/edit.html", project=project, comment=comment, form=form)


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete(comment_id: int):
    comment, _ = _own_comment(comment_id)
    if ConfirmForm().validate_on_submit() and services.delete(comment):
        db.session.commit()
        flash(gettext("Comment deleted."), "info")
    return _to_comment(comment)


@bp.route("/comments/<int:comment_id>/hide", methods=["GET", "POST"])
@login_required
def hide(comment_id: int):
    """The project's creator, or a moderator, hides a comment with a reason."""
    comment, project = comment_of(comment_id)
    role = services.hider_role(project, current_user)
    if role is None:
        abort(403)
    if comment.is_hidden:
        flash(gettext("This comment is already hidden."), "info")
        return _to_comment(comment)
    form = HideForm()
    if form.validate_on_submit():
        if services.hide(comment, current_user, role, form.reason.data):
            db.session.commit()
            flash(gettext("Comment hidden."), "success")
        else:
            flash(gettext("This comment is already hidden."), "info")
        return _to_comment(comment)
    author = db.session.get(User, comment.author_id)
    return render_template(
        "comments/hide.html", project=project, comment=comment, author=author, form=form
    )
