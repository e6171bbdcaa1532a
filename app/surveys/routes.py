"""Surveys: the creator builds, sends and locks the survey of a funded project and reads the
answers (staff may read them too); a backer answers from their pledge."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.pledges.models import Pledge
from app.pledges.routes import own_pledge
from app.projects.models import Project
from app.projects.routes import visible_project
from app.surveys import addresses, services
from app.surveys.domain import QuestionKind
from app.surveys.forms import (
    AddressSettingForm,
    AnswerForm,
    LockForm,
    QuestionForm,
    RemoveQuestionForm,
    SendForm,
)
from app.surveys.models import Survey, SurveyResponse

bp = Blueprint("surveys", __name__, template_folder="templates")


def _survey_project(project_id: int, write: bool = False) -> Project:
    """The project if the viewer may see its survey (its owner; staff read it): hidden ones
    are a 404, public ones a 403 to others; before funding there is no survey (404)."""
    project = visible_project(project_id)
    owner = project.owner_id == current_user.id
    if not (owner or (current_user.is_moderator and not write)):
        abort(403)
    if not services.may_have_survey(project):
        abort(404, gettext("A survey can be sent once the project is funded."))
    return project


def _back(project: Project):
    return redirect(url_for("surveys.manage", project_id=project.id))


def _refused(refused: services.SurveyRefused, project: Project):
    db.session.rollback()
    flash(gettext(str(refused)), "warning")
    return _back(project)


def _question_form(project: Project) -> QuestionForm:
    form = QuestionForm(prefix="question")
    form.tiers.choices = [(t.id, t.title) for t in project.tiers]
    return form


@bp.route("/projects/<int:project_id>/survey")
@login_required
def manage(project_id: int):
    project = _survey_project(project_id)
    survey = services.of_project(project.id)
    return _manage_page(project, survey)


def _manage_page(project: Project, survey: Survey | None, question_form=None, status=200):
    is_owner = project.owner_id == current_user.id
    setting = AddressSettingForm(prefix="setting")
    if survey is not None:
        setting.asks_address.data = survey.asks_address
    else:
        setting.asks_address.data = any(t.ships for t in project.tiers)
    found = services.rates(survey) if survey and not survey.is_draft else []
    tiers = {t.id: t.title for t in project.tiers}
    return (
        render_template(
            "surveys/manage.html",
            project=project,
            survey=survey,
            is_owner=is_owner,
            setting=setting,
            question_form=question_form or _question_form(project),
            remove_form=RemoveQuestionForm(prefix="remove"),
            send_form=SendForm(prefix="send"),
            lock_form=LockForm(prefix="lock"),
            rates=found,
            total=services.total_rate(found),
            rows=services.table(survey) if survey and not survey.is_draft else [],
            tiers=tiers,
            tier_titles=lambda ids: ", ".join(tiers.get(i, "?") for i in ids),
            address_lines=addresses.lines,
        ),
        status,
    )


@bp.route("/projects/<int:project_id>/survey/address", methods=["POST"])
@login_required
def address_setting(project_id: int):
    project = _survey_project(project_id, write=True)
    form = AddressSettingForm(prefix="setting")
    if not form.validate_on_submit():
        abort(400, gettext("The form was incomplete. Try again."))
    try:
        services.set_address(services.start(project), form.asks_address.data)
    except services.SurveyRefused as refused:
        return _refused(refused, project)
    db.session.commit()
    flash(gettext("Saved."), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/survey/questions", methods=["POST"])
@login_required
def add_question(project_id: int):
    project = _survey_project(project_id, write=True)
    form = _question_form(project)
    if not form.validate_on_submit():
        db.session.rollback()
        return _manage_page(project, services.of_project(project.id), form, 400)
    try:
        services.add_question(
            services.start(project),
            QuestionKind(form.kind.data),
            form.prompt.data,
            form.option_list(),
            list(form.tiers.data or []),
            form.required.data,
        )
    except services.SurveyRefused as refused:
        return _refused(refused, project)
    db.session.commit()
    flash(gettext("The question is added."), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/survey/questions/remove", methods=["POST"])
@login_required
def remove_question(project_id: int):
    project = _survey_project(project_id, write=True)
    form = RemoveQuestionForm(prefix="remove")
    survey = services.of_project(project.id)
    if not form.validate_on_submit() or survey is None or not form.question_id.data.isdigit():
        abort(400, gettext("The form was incomplete. Try again."))
    try:
        removed = services.remove_question(survey, int(form.question_id.data[:12]))
    except services.SurveyRefused as refused:
        return _refused(refused, project)
    if not removed:
        abort(404)
    db.session.commit()
    flash(gettext("The question is removed."), "info")
    return _back(project)


@bp.route("/projects/<int:project_id>/survey/send", methods=["POST"])
@login_required
def send(project_id: int):
    project = _survey_project(project_id, write=True)
    if not SendForm(prefix="send").validate_on_submit():
        abort(400, gettext("The form was incomplete. Try again."))
    try:
        asked = services.send(services.start(project))
    except services.SurveyRefused as refused:
        return _refused(refused, project)
    db.session.commit()
    flash(gettext("The survey was sent to %(num)d backers.", num=asked), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/survey/lock", methods=["POST"])
@login_required
def lock(project_id: int):
    project = _survey_project(project_id, write=True)
    survey = services.of_project(project.id)
    if not LockForm(prefix="lock").validate_on_submit() or survey is None:
        abort(400, gettext("The form was incomplete. Try again."))
    try:
        services.lock(survey)
    except services.SurveyRefused as refused:
        return _refused(refused, project)
    db.session.commit()
    flash(gettext("The answers are locked."), "success")
    return _back(project)


@bp.route("/projects/<int:project_id>/survey/fulfilment.csv")
@login_required
def fulfilment_csv(project_id: int):
    project = _survey_project(project_id)
    survey = services.of_project(project.id)
    if survey is None or survey.is_draft:
        abort(404, gettext("The survey has not been sent yet."))
    body = "".join(services.csv_rows(survey))  # read now, inside the request's session
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="project-{project.id}-fulfilment.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- the backer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeSurvey:
    survey: Survey
    response: SurveyResponse


@bp.app_template_global()
def pledge_survey(pledge: Pledge) -> PledgeSurvey | None:
    """The pledge page's survey section: the survey it was asked, if any."""
    found = services.response_of(pledge)
    return PledgeSurvey(*found) if found else None


def _asked(pledge_id: int) -> tuple[Pledge, Survey, SurveyResponse]:
    pledge = own_pledge(pledge_id)
    found = services.response_of(pledge)
    if found is None:
        abort(404, gettext("This pledge has no survey to answer."))
    return pledge, *found


@bp.route("/pledges/<int:pledge_id>/survey", methods=["GET", "POST"])
@login_required
def answer(pledge_id: int):
    pledge, survey, response = _asked(pledge_id)
    questions = services.questions_for(survey, pledge.tier_id)
    form = AnswerForm()
    saved = response.address or {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: v[:6000] for k, v in request.form.items() if isinstance(v, str)}
    else:
        # A country in the link (?country=GB) preselects it, as "Update fields" would.
        asked = request.args.get("country", "")[:2].upper()
        asked = asked if asked in addresses.known_countries() else ""
        form.country.data = saved.get("country_code") or asked or pledge.shipping_country or ""
        values = {k: v for k, v in saved.items() if k != "country_code"}
        values |= {f"q{k}": v for k, v in (response.answers or {}).items()}
    country = form.country.data or ""
    if request.method == "POST" and form.validate_on_submit():
        if not survey.takes_answers:
            flash(gettext("The creator has locked the answers: they cannot be changed."), "warning")
            return redirect(url_for("surveys.answer", pledge_id=pledge.id))
        if not form.update_fields.data:
            address = None
            try:
                if survey.asks_address:
                    if not country:
                        raise addresses.AddressInvalid({"country": gettext("Choose a country.")})
                    address = addresses.normalise(country, values)
            except addresses.AddressInvalid as invalid:
                errors |= invalid.errors
            try:
                answers = services.check_answers(survey, pledge.tier_id, values)
            except services.AnswerRefused as refused:
                errors |= refused.errors
            if not errors:
                try:
                    services.answer(survey, response, address, answers)
                except services.SurveyRefused as refused:
                    db.session.rollback()
                    flash(gettext(str(refused)), "warning")
                    return redirect(url_for("surveys.answer", pledge_id=pledge.id))
                db.session.commit()
                flash(gettext("Thank you: your answers are saved."), "success")
                return redirect(url_for("pledges.show", pledge_id=pledge.id))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, gettext("The form was incomplete. Try again."))
        errors["country"] = (form.country.errors or [gettext("Choose a country.")])[0]
    db.session.rollback()
    status = 400 if errors else 200
    return (
        render_template(
            "surveys/answer.html",
            pledge=pledge,
            project=pledge.project,
            survey=survey,
            response=response,
            questions=questions,
            form=form,
            fields=addresses.fields_of(country, values.get("country_area", ""))
            if survey.asks_address and country
            else [],
            values=values,
            errors=errors,
            address_lines=addresses.lines,
        ),
        status,
    )
