"""`flask demo survey PROJECT`: give a funded demo project a sent backer survey (an address,
a size, a note for one tier) and answers from its first few backers, through the services.
Flushes; the command commits."""

from __future__ import annotations

from sqlalchemy import select

from app.errors import UserError
from app.extensions import db
from app.pledges.models import Pledge
from app.projects.models import Project
from app.surveys import addresses
from app.surveys import services as surveys
from app.surveys.domain import QuestionKind
from app.surveys.models import SurveyResponse

SIZES = ("M", "L", "S", "M", "XL")
ANSWERS = 3  # backers who answer at once; the rest are reminded by the scheduler
DEMO_ADDRESSES = (
    {"country_code": "US", "street_address": "1 Main Street", "city": "Springfield",
     "country_area": "IL", "postal_code": "62701"},
    {"country_code": "GB", "street_address": "10 Downing Street", "city": "London",
     "postal_code": "SW1A 2AA"},
    {"country_code": "CN", "country_area": "广东省", "city": "深圳市", "city_area": "南山区",
     "street_address": "科技园1号", "postal_code": "518000"},
)  # fmt: skip
# An address in the pledge's own shipping country, where there is one here.
BY_COUNTRY = {
    "GB": {"country_code": "GB", "street_address": "3 Harbour Terrace", "city": "Falmouth",
           "postal_code": "TR11 2AB"},
    "IE": {"country_code": "IE", "street_address": "12 Quay Street", "city": "Galway",
           "postal_code": "H91 X2T0"},
    "NL": {"country_code": "NL", "street_address": "Prinsengracht 263", "city": "Amsterdam",
           "postal_code": "1016 GV"},
    **{a["country_code"]: a for a in DEMO_ADDRESSES},
}  # fmt: skip


class DemoSurveyRefused(UserError):
    """No such project, not funded, or it has a survey already."""


def survey_demo(project_id: int, answers: int = ANSWERS) -> tuple[int, int]:
    """Build, send and answer the survey (the first ``answers`` backers); (backers asked,
    answers given)."""
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
        .limit(answers)
    )
    answered = 0
    for index, response in enumerate(list(responses)):
        pledge_tier, ships_to = pledge_of(response)
        raw = BY_COUNTRY.get(ships_to or "", DEMO_ADDRESSES[index % len(DEMO_ADDRESSES)])
        name = {"name": f"Demo Backer {index + 1}", **raw}
        address = addresses.normalise(raw["country_code"], name)
        given = surveys.check_answers(
            survey,
            pledge_tier,
            {f"q{size.id}": SIZES[index % len(SIZES)], f"q{note.id}": "For Ada"},
        )
        surveys.answer(survey, response, address, given)
        answered += 1
    return asked, answered


def pledge_of(response: SurveyResponse) -> tuple[int, str | None]:
    """The answering pledge's tier and the country its reward ships to."""
    row = db.session.execute(
        select(Pledge.tier_id, Pledge.shipping_country).where(Pledge.id == response.pledge_id)
    ).one()
    return row.tier_id, row.shipping_country
