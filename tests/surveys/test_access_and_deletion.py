"""Who sees survey addresses and answers (the backer, the project's creator, staff), and a
deleted account's survey answers erased."""

from __future__ import annotations

from sqlalchemy import select, update

from app.accounts.models import Role
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.surveys import services
from app.surveys.models import SurveyResponse
from tests.helpers import PASSWORD, csrf_token, gen_project, gen_user
from tests.helpers.surveys import US_ADDRESS, answer, browser_of, build, manage_url, question, send


def _answered(app, funded) -> int:
    build(funded, [question("Colour?")])
    send(funded)
    qid = services.of_project(funded.project_id).questions[0].id
    _, response = answer(app, "Ann", funded.pledges["Ann"], {**US_ADDRESS, f"q{qid}": "Teal"})
    assert response.status_code == 302
    return qid


def test_only_the_backer_the_creator_and_staff_see_answers(app, funded):
    _answered(app, funded)
    eve = gen_user("eve@example.com", "Eve")  # another creator, with a project of her own
    gen_project(eve, "live", title="Eve's Lamp")
    gen_user("mod@example.com", "Mo", role=Role.MODERATOR)
    csv_url = f"/projects/{funded.project_id}/survey/fulfilment.csv"
    answer_url = f"/pledges/{funded.pledges['Ann']}/survey"
    # The creator and a moderator read the answers and the CSV.
    for browser in (funded.owner, browser_of(app, "mod@example.com")):
        page = browser.client.get(manage_url(funded)).get_data(as_text=True)
        assert "SPRINGFIELD" in page and "Teal" in page
        assert browser.client.get(csv_url).status_code == 200
    # Another backer of the same project, another creator: refused, nothing shown.
    for email in ("ben@example.com", "eve@example.com"):
        other = browser_of(app, email)
        for url in (manage_url(funded), csv_url):
            response = other.client.get(url)
            assert response.status_code == 403, (email, url)
            assert "SPRINGFIELD" not in response.get_data(as_text=True)
        response = other.client.get(answer_url)
        assert response.status_code == 404
        assert "SPRINGFIELD" not in response.get_data(as_text=True)
    # Staff read but do not change the survey.
    mod = browser_of(app, "mod@example.com")
    lock = mod.client.post(
        f"/projects/{funded.project_id}/survey/lock", data={"lock-csrf_token": csrf_token(mod)}
    )
    assert lock.status_code == 403
    assert services.of_project(funded.project_id).is_sent
    # Anonymous: to the log in page.
    anonymous = app.test_client()
    for url in (manage_url(funded), csv_url, answer_url):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deleted_account_loses_its_survey_address_and_answers(app, funded):
    qid = _answered(app, funded)
    ann = browser_of(app, "ann@example.com")
    # Ann's pledge was collected (the money is settled), so she may leave.
    db.session.execute(
        update(Pledge)
        .where(Pledge.id == funded.pledges["Ann"])
        .values(status=PledgeStatus.COLLECTED)
    )
    db.session.commit()
    response = ann.submit(
        "/settings/account",
        {"password": PASSWORD, "confirm": "y"},
        action="/settings/account/delete",
    )
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.pledge_id == funded.pledges["Ann"])
    )
    assert row.address is None and row.answers == {} and row.erased_at is not None
    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "SPRINGFIELD" not in page and "Teal" not in page
    csv_text = funded.owner.client.get(
        f"/projects/{funded.project_id}/survey/fulfilment.csv"
    ).get_data(as_text=True)
    assert (
        "SPRINGFIELD" not in csv_text
        and "Teal" not in csv_text
        and "ann@example.com" not in csv_text
    )
    assert services.export_for_user(row.backer_id)[0]["answers"] == {}
    assert str(qid) not in str(row.answers)
