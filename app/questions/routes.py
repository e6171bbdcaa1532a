"""The FAQ and questions: the creator keeps the FAQ and answers; signed-in visitors ask."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db, limiter
from app.projects.forms import ConfirmForm
from app.projects.routes import own_project, visible_project
from app.questions import services
from app.questions.forms import AnswerForm, AskForm, FaqEntryForm
from app.questions.models import FaqEntry, Question

bp = Blueprint("questions", __name__, template_folder="templates")


@bp.app_template_global()
def faq_section(project) -> services.Section:
    """The project page's FAQ, and the reader's own questions (or, for the creator, how many
    wait for an answer)."""
    reader = current_user.id if current_user.is_authenticated else None
    return services.section(project, reader)


@bp.app_template_global()
def ask_form() -> AskForm:
    return AskForm()


def _own_entry(entry_id: int) -> FaqEntry:
    entry = db.session.get(FaqEntry, entry_id)
    if entry is None:
        abort(404)
    own_project(entry.project_id)
    return entry


def _own_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    own_project(question.project_id)
    return question


def _to_manage(project_id: int, anchor: str = ""):
    return redirect(url_for("questions.manage", project_id=project_id) + anchor)


def _answer_form(question: Question) -> AnswerForm:
    form = AnswerForm(prefix=f"q{question.id}")
    if not form.is_submitted():
        form.faq_question.data = question.body[:300]
    return form


def _manage_page(project, entry_form: FaqEntryForm, answer_forms: dict | None = None):
    questions = services.questions_of(project.id)
    forms = {q.id: _answer_form(q) for q in questions if not q.is_answered}
    forms.update(answer_forms or {})
    return render_template(
        "questions/manage.html",
        project=project,
        entries=services.entries(project.id),
        entry_form=entry_form,
        questions=questions,
        answer_forms=forms,
        confirm=ConfirmForm(),
    )


@bp.route("/projects/<int:project_id>/faq", methods=["GET", "POST"])
@login_required
def manage(project_id: int):
    """The creator's FAQ and the questions asked; a POST adds an entry."""
    project = own_project(project_id)
    form = FaqEntryForm()
    if form.validate_on_submit():
        services.add_entry(project, form.question.data, form.answer.data)
        db.session.commit()
        flash(gettext("Question added to the FAQ."), "success")
        return _to_manage(project.id, "#faq")
    return _manage_page(project, form)


@bp.route("/faq/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit_entry(entry_id: int):
    entry = _own_entry(entry_id)
    project = own_project(entry.project_id)
    form = FaqEntryForm(obj=entry)
    if form.validate_on_submit():
        services.update_entry(entry, form.question.data, form.answer.data)
        db.session.commit()
        flash(gettext("FAQ entry saved."), "success")
        return _to_manage(project.id, "#faq")
    return render_template("questions/edit.html", project=project, form=form)


@bp.route("/faq/<int:entry_id>/delete", methods=["POST"])
@login_required
def delete_entry(entry_id: int):
    entry = _own_entry(entry_id)
    project_id = entry.project_id
    if ConfirmForm().validate_on_submit():
        services.delete_entry(entry)
        db.session.commit()
        flash(gettext("FAQ entry deleted."), "info")
    return _to_manage(project_id, "#faq")


@bp.route("/projects/<int:project_id>/questions", methods=["POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["QUESTION_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"user:{current_user.id}",
    scope="questions-account",
    error_message=lambda: gettext("You have asked many questions lately. Try again later."),
)
def ask(project_id: int):
    """A signed-in visitor asks the creator privately."""
    project = visible_project(project_id)
    form = AskForm()
    back = redirect(url_for("projects.show", project_id=project.id) + "#questions")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(gettext("Your question: %(error)s", error=error), "danger")
        return back
    try:
        services.ask(project, current_user.id, form.body.data)
    except services.QuestionRefused as refused:
        flash(gettext(str(refused)), "warning")
        return back
    db.session.commit()
    flash(
        gettext("Your question was sent to the creator. Their answer will appear here."), "success"
    )
    return back


@bp.route("/questions/<int:question_id>/answer", methods=["POST"])
@login_required
def answer(question_id: int):
    question = _own_question(question_id)
    project = own_project(question.project_id)
    form = _answer_form(question)
    if form.validate_on_submit() and not question.is_answered:
        publish_as = (form.faq_question.data or question.body[:300]) if form.publish.data else None
        if services.answer(question, form.answer.data, publish_as):
            db.session.commit()
            flash(
                gettext("Answer sent and published in the FAQ.")
                if publish_as
                else gettext("Answer sent."),
                "success",
            )
            return _to_manage(project.id, "#questions")
    if question.is_answered or (form.is_submitted() and not form.errors):
        db.session.rollback()
        flash(gettext("This question has already been answered."), "warning")
        return _to_manage(project.id, "#questions")
    return _manage_page(project, FaqEntryForm(formdata=None), {question.id: form})
