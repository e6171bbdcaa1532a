"""`flask demo survey PROJECT`: a funded project's survey, sent and partly answered."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.pledges.models import Pledge
from app.surveys.models import SurveyResponse
from tests.helpers.notifications import outbox


def test_the_demo_survey_is_sent_and_answered(app, runner, funded):
    result = runner.invoke(args=["demo", "survey", str(funded.project_id)])
    assert result.exit_code == 0, result.output
    assert "survey sent to 3 backers" in result.output and "3 answered" in result.output
    assert len(outbox("survey_sent")) == 3
    db.session.expire_all()
    rows = list(db.session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))
    # Each address is in the country the pledge's reward ships to (Ann US, Ben GB); Cal's
    # reward does not ship, so Cal's address is one of the demo's own.
    countries = {r.pledge_id: r.address["country_code"] for r in rows}
    assert countries[funded.pledges["Ann"]] == "US"
    assert countries[funded.pledges["Ben"]] == "GB"
    assert db.session.get(Pledge, funded.pledges["Cal"]).shipping_country is None
    assert countries[funded.pledges["Cal"]] in {"US", "GB", "CN"}
    page = funded.owner.client.get(f"/projects/{funded.project_id}/survey").get_data(as_text=True)
    assert "3 of 3 backers answered (100%)" in page
    again = runner.invoke(args=["demo", "survey", str(funded.project_id)])
    assert again.exit_code != 0 and "has a survey already" in again.output


def test_the_demo_survey_needs_a_funded_project(runner, project):
    result = runner.invoke(args=["demo", "survey", str(project.id)])
    assert result.exit_code != 0 and "only a funded project" in result.output
