"""`flask demo survey PROJECT`: give a funded demo project a sent backer survey (an address,
a size, a note for one tier) and answers from its first few backers, through the services.
Flushes; the command commits."""

from __future__ import annotations

from sqlalchemy import select

from app.errors import UserError
from app.extensions import db
from app.projects.models import Project
from app.surveys import addresses
from app.surveys import services as surveys
from app.surveys.domain import QuestionKind
from app.surveys.models import SurveyResponse

ANSWERS = 3  # backers who answer at once; the rest are reminded by the scheduler
DEMO_ADDRESSES = (
    {"country_code": "US", "street_address": "1 Main Street", "city": "Springfield",
     "country_area": "IL", "postal_code": "62701"},
    {"country_code": "GB", "street_address": "10 Downing Street", "city": "London",
     "postal_code": "SW1A 2AA"},
    {"country_code": "CN", "country_area": "广东省", "city": "深圳市", "city_area": "南山区",
     "street_address": "科技园1号", "postal_code": "518000"},
)  # fmt: skip


class DemoSurveyRefused(UserError):
    """No such project, not funded, or it has a survey already."""


def survey_demo(project_id: int) -> tuple[int, int]:
    """Build, send and answer the survey; (backers asked, answers given)."""
    project = db.session.get(Project, project_id)
    if project is None:
        raise DemoSurveyRefused(f"There is no project {project_id}.")
    if not surveys.may_have_survey(project):
        raise DemoSurveyRefused(
            f"Project {project.id} is {project.status.value}: only a funded project has a "
            "survey (flask demo end, then let it settle)."
        )
    if surveys.of_project(project.id) is not None:
        raise DemoSurveyRefused(f"Project {project.id} has a survey already.")
    survey = surveys.start(project)
    surveys.set_address(survey, True)
    size = surveys.add_question(
        survey, QuestionKind.CHOICE, "Which size?", ["S", "M", "L", "XL"], [], True
    )
    first_tier = [project.tiers[0].id] if project.tiers else []
    note = surveys.add_question(
        survey, QuestionKind.LINE, "A name to engrave (optional)", [], first_tier, False
    )
    asked = surveys.send(survey)
    responses = db.session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyResponse.id)
        .limit(ANSWERS)
    )
    answered = 0
    for index, response in enumerate(list(responses)):
        raw = DEMO_ADDRESSES[index % len(DEMO_ADDRESSES)]
        country = raw["country_code"]
        address = addresses.normalise(country, {"name": f"Demo Backer {index + 1}", **raw})
        pledge_tier = response_tier(response)
        answers = surveys.check_answers(
            survey, pledge_tier, {f"q{size.id}": "M", f"q{note.id}": "For Ada"}
        )
        surveys.answer(survey, response, address, answers)
        answered += 1
    return asked, answered


def response_tier(response: SurveyResponse) -> int:
    from app.pledges.models import Pledge

    return db.session.scalar(select(Pledge.tier_id).where(Pledge.id == response.pledge_id))
