"""Backer surveys: the creator builds and sends one after funding, backers answer from their
pledge and may change their answers until it is locked, reminders go out 2 and 7 days after
sending, the creator reads the rates and downloads the fulfilment CSV."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.extensions import db
from app.scheduler import send_notifications
from app.surveys import services
from app.surveys.models import SurveyResponse
from tests.helpers import parse_forms
from tests.helpers.notifications import outbox
from tests.helpers.surveys import (
    US_ADDRESS,
    answer,
    browser_of,
    build,
    manage_url,
    question,
    send,
    survey_of,
)


def test_no_survey_before_the_project_is_funded(app, client, creator, project):
    browser = browser_of(app, creator.email)
    response = browser.client.get(f"/projects/{project.id}/survey")
    assert response.status_code == 404
    assert "once the project is funded" in response.get_data(as_text=True)


def test_the_creator_builds_a_survey_and_sends_it_to_every_backer(app, funded):
    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "Ask every backer for a shipping address" in page
    # A tier ships, so the address is asked for by default.
    (setting,) = [f for f in parse_forms(page) if f["action"].endswith("/survey/address")]
    assert setting["fields"].get("setting-asks_address") == "y"
    build(
        funded,
        [
            question("T-shirt size", "choice", "S\nM\nL", required=True),
            question("Name to engrave", tiers=[funded.tier_ids[0]]),
            question("Anything else?", "long"),
        ],
    )
    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "T-shirt size" in page and "Choice: S / M / L" in page
    assert "only: Tier 1" in page
    assert outbox("survey_sent") == []

    response = send(funded)
    assert response.status_code == 302
    assert survey_of(funded).status.value == "sent"
    mails = outbox("survey_sent")
    # Ann, Ben (held) and Cal (collected); not Dee, refunded.
    assert sorted(m.to_address for m in mails) == [
        "ann@example.com",
        "ben@example.com",
        "cal@example.com",
    ]
    assert {m.pledge_id for m in mails} == {funded.pledges[n] for n in ("Ann", "Ben", "Cal")}
    # Sending again is refused and mails nobody twice.
    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "/survey/send" not in page
    assert len(outbox("survey_sent")) == 3
    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "0 of 3 backers answered (0%)" in page


def test_the_mail_links_to_the_survey_and_the_job_sends_it(app, funded):
    build(funded, [question("Colour?")])
    send(funded)
    from app.notifications import messages
    from app.notifications.models import Outbox

    row = db.session.scalar(select(Outbox).where(Outbox.to_address == "ann@example.com"))
    [(_row_id, mail)] = messages.compose([row], row.created_at)
    text = mail.get_body(("plain",)).get_content()
    assert "Survey Lamp" in mail["Subject"]
    assert f"/pledges/{funded.pledges['Ann']}/survey" in text


def test_a_sent_survey_cannot_be_changed(app, funded):
    build(funded, [question("Colour?")])
    send(funded)
    response = funded.owner.client.post(
        f"/projects/{funded.project_id}/survey/questions",
        data={**question("Late question"), "question-csrf_token": _token(funded)},
    )
    assert response.status_code == 302
    assert [q.prompt for q in survey_of(funded).questions] == ["Colour?"]


def _token(funded) -> str:
    forms = parse_forms(funded.owner.client.get(manage_url(funded)).get_data(as_text=True))
    return next(v for f in forms for k, v in f["fields"].items() if k.endswith("csrf_token"))


def test_a_choice_needs_two_to_ten_options(app, funded):
    response = funded.owner.submit(
        manage_url(funded),
        question("Size", "choice", "Only one"),
        action=f"/projects/{funded.project_id}/survey/questions",
    )
    assert response.status_code == 400
    assert "A choice has 2 to 10 options" in response.get_data(as_text=True)
    eleven = "\n".join(str(i) for i in range(11))
    response = funded.owner.submit(
        manage_url(funded),
        question("Size", "choice", eleven),
        action=f"/projects/{funded.project_id}/survey/questions",
    )
    assert response.status_code == 400
    assert survey_of(funded) is None or survey_of(funded).questions == []


def test_backers_answer_from_their_pledge_page_and_change_their_answers(app, funded):
    build(funded, [question("T-shirt size", "choice", "S\nM\nL", required=True)])
    send(funded)
    ann = browser_of(app, "ann@example.com")
    pledge_page = ann.client.get(f"/pledges/{funded.pledges['Ann']}").get_data(as_text=True)
    assert "Survey: not answered" in pledge_page
    assert f"/pledges/{funded.pledges['Ann']}/survey" in pledge_page

    response = ann.submit(f"/pledges/{funded.pledges['Ann']}/survey", {**US_ADDRESS, "q1": "M"})
    # The question ids are the survey's own; take them from the page.
    qid = survey_of(funded).questions[0].id
    response = ann.submit(
        f"/pledges/{funded.pledges['Ann']}/survey", {**US_ADDRESS, f"q{qid}": "M"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    pledge_page = ann.client.get(f"/pledges/{funded.pledges['Ann']}").get_data(as_text=True)
    assert "Survey: answered" in pledge_page
    row = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.pledge_id == funded.pledges["Ann"])
    )
    assert row.answers == {str(qid): "M"}
    assert row.address["city"] == "SPRINGFIELD" and row.address["country_area"] == "IL"
    first_answered = row.answered_at

    # The form shows what she answered, and she changes it.
    page = ann.client.get(f"/pledges/{funded.pledges['Ann']}/survey").get_data(as_text=True)
    assert 'value="62701"' in page and 'value="M" checked' in page
    response = ann.submit(
        f"/pledges/{funded.pledges['Ann']}/survey",
        {**US_ADDRESS, "postal_code": "62702", f"q{qid}": "L"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(SurveyResponse, row.id)
    assert row.answers == {str(qid): "L"} and row.address["postal_code"] == "62702"
    assert row.answered_at == first_answered

    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "1 of 3 backers answered (33%)" in page
    assert "62702" in page and "T-shirt size:</span> L" in page


def test_a_required_question_and_an_unlisted_option_are_form_errors(app, funded):
    build(funded, [question("Size", "choice", "S\nM", required=True)])
    send(funded)
    qid = survey_of(funded).questions[0].id
    _, response = answer(app, "Ann", funded.pledges["Ann"], US_ADDRESS)
    assert response.status_code == 400
    assert "This question needs an answer." in response.get_data(as_text=True)
    _, response = answer(app, "Ann", funded.pledges["Ann"], {**US_ADDRESS, f"q{qid}": "XXL"})
    assert response.status_code == 400
    assert "Choose one of the options." in response.get_data(as_text=True)
    assert db.session.scalar(select(SurveyResponse.answered_at).where(
        SurveyResponse.pledge_id == funded.pledges["Ann"])) is None  # fmt: skip


def test_per_tier_questions_are_asked_only_of_that_tier(app, funded):
    build(
        funded,
        [question("Engraving", tiers=[funded.tier_ids[0]], required=True), question("Email ok?")],
    )
    send(funded)
    ann = browser_of(app, "ann@example.com")
    cal = browser_of(app, "cal@example.com")
    assert "Engraving" in ann.client.get(f"/pledges/{funded.pledges['Ann']}/survey").get_data(
        as_text=True
    )
    cal_page = cal.client.get(f"/pledges/{funded.pledges['Cal']}/survey").get_data(as_text=True)
    assert "Engraving" not in cal_page and "Email ok?" in cal_page
    # Cal (tier 2) is not held to tier 1's required question, and an answer to it is dropped.
    engraving = survey_of(funded).questions[0].id
    response = cal.submit(
        f"/pledges/{funded.pledges['Cal']}/survey",
        {**US_ADDRESS, "name": "Cal", f"q{engraving}": "sneaked in"},
    )
    assert response.status_code == 302
    row = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.pledge_id == funded.pledges["Cal"])
    )
    assert row.answers == {}


def test_the_address_form_follows_the_country(app, funded):
    build(funded)
    send_resp = funded.owner.submit(
        manage_url(funded), action=f"/projects/{funded.project_id}/survey/send"
    )
    assert send_resp.status_code == 302
    url = f"/pledges/{funded.pledges['Ann']}/survey"
    ann = browser_of(app, "ann@example.com")
    # Without JavaScript: choose a country, "Update fields", and the form has its fields.
    response = ann.submit(url, {"country": "CN", "update_fields": "Update fields"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Province" in page and "District" in page and 'name="country_area"' in page
    response = ann.submit(url, {"country": "US", "update_fields": "Update fields"})
    page = response.get_data(as_text=True)
    assert "State" in page and "ZIP code" in page and "Alabama" in page
    # A link may name the country: its fields at once.
    page = ann.client.get(f"{url}?country=GB").get_data(as_text=True)
    assert "Post town" in page and "Postal code" in page and 'name="country_area"' not in page


def test_addresses_are_checked_for_their_country(app, funded):
    build(funded)
    send(funded)
    url = f"/pledges/{funded.pledges['Ann']}/survey"
    ann = browser_of(app, "ann@example.com")
    # US: state and ZIP code needed.
    response = ann.submit(url, {**US_ADDRESS, "country_area": "", "postal_code": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("This field is required for this country.") == 2
    response = ann.submit(url, {**US_ADDRESS, "postal_code": "ABCDE"})
    assert response.status_code == 400
    assert "This is not valid for this country." in response.get_data(as_text=True)
    # GB: a postcode of the right shape.
    gb = {"country": "GB", "name": "Ben", "street_address": "10 Downing St", "city": "London"}
    response = ann.submit(url, {**gb, "postal_code": "12345"})
    assert response.status_code == 400
    response = ann.submit(url, {**gb, "postal_code": "SW1A 2AA"})
    assert response.status_code == 302
    # CN: the province is needed.
    cn = {
        "country": "CN",
        "name": "Li Lei",
        "city": "深圳市",
        "city_area": "南山区",
        "street_address": "科技园1号",
        "postal_code": "518000",
    }
    response = ann.submit(url, cn)
    assert response.status_code == 400
    assert "This field is required for this country." in response.get_data(as_text=True)
    response = ann.submit(url, {**cn, "country_area": "广东省"})
    assert response.status_code == 302
    row = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.pledge_id == funded.pledges["Ann"])
    )
    assert row.address["country_code"] == "CN" and row.address["country_area"] == "广东省"
    # No country, or one that does not exist: a form error, nothing saved over it.
    response = ann.submit(url, {**US_ADDRESS, "country": "XX"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(SurveyResponse, row.id).address["country_code"] == "CN"


def test_locked_answers_are_read_only(app, funded):
    build(funded, [question("Colour?")])
    send(funded)
    qid = survey_of(funded).questions[0].id
    ann, response = answer(app, "Ann", funded.pledges["Ann"], {**US_ADDRESS, f"q{qid}": "Red"})
    assert response.status_code == 302
    url = f"/pledges/{funded.pledges['Ann']}/survey"
    stale = parse_forms(ann.client.get(url).get_data(as_text=True))[-1]["fields"]
    response = funded.owner.submit(
        manage_url(funded), action=f"/projects/{funded.project_id}/survey/lock"
    )
    assert response.status_code == 302
    assert survey_of(funded).status.value == "locked"
    page = ann.client.get(url).get_data(as_text=True)
    assert "The creator has locked the answers" in page and "Red" in page
    assert "Save my answers" not in page
    # A form loaded before the lock is refused, the answers stay.
    response = ann.client.post(url, data={**stale, **US_ADDRESS, f"q{qid}": "Blue"})
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.scalar(
        select(SurveyResponse).where(SurveyResponse.pledge_id == funded.pledges["Ann"])
    )
    assert row.answers == {str(qid): "Red"}
    # The service refuses too (the second tab's view).
    survey = survey_of(funded)
    try:
        services.answer(survey, row, None, {})
    except services.SurveyRefused:
        db.session.rollback()
    else:
        raise AssertionError("a locked survey took an answer")


def test_reminders_go_out_after_2_and_7_days_once_each(app, funded, clock):
    build(funded, [question("Colour?")])
    send(funded)
    qid = survey_of(funded).questions[0].id
    answer(app, "Ann", funded.pledges["Ann"], {**US_ADDRESS, f"q{qid}": "Red"})

    def reminders():
        return sorted((m.to_address, m.data["days"]) for m in outbox("survey_reminder"))

    clock.advance(days=1, hours=23)
    send_notifications()
    assert reminders() == []
    clock.advance(hours=2)  # 2 days and 1 hour after sending
    send_notifications()
    send_notifications()  # a second run: nobody twice
    assert reminders() == [("ben@example.com", 2), ("cal@example.com", 2)]
    # Ben answers; only Cal is reminded at day 7, once.
    answer(app, "Ben", funded.pledges["Ben"], {**US_ADDRESS, "name": "Ben", f"q{qid}": "Blue"})
    clock.advance(days=5)
    send_notifications()
    send_notifications()
    assert reminders() == [("ben@example.com", 2), ("cal@example.com", 2), ("cal@example.com", 7)]
    clock.advance(days=30)
    send_notifications()
    assert len(reminders()) == 3


def test_the_fulfilment_csv(app, funded):
    build(funded, [question("Size", "choice", "S\nM"), question("Note")])
    send(funded)
    size, note = (q.id for q in survey_of(funded).questions)
    tricky = {"name": "=HYPERLINK(1)", f"q{size}": "M", f"q{note}": "@home +1"}
    answer(app, "Ann", funded.pledges["Ann"], {**US_ADDRESS, **tricky})
    response = funded.owner.client.get(f"/projects/{funded.project_id}/survey/fulfilment.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "private" in response.headers["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["pledge_id"] for r in rows] == [str(funded.pledges[n]) for n in ("Ann", "Ben", "Cal")]
    ann = rows[0]
    assert ann["backer_name"] == "Ann" and ann["email"] == "ann@example.com"
    assert ann["reward_tier"] == "Tier 1" and ann["amount"] == "15.00"
    assert ann["shipping_fee"] == "5.00" and ann["currency"] == "USD"
    assert ann["recipient"] == "'=HYPERLINK(1)"  # CSV injection: quoted
    assert ann["street_address"] == "1 Main Street" and ann["city"] == "SPRINGFIELD"
    assert ann["country_area"] == "IL" and ann["postal_code"] == "62701"
    assert ann["country"] == "US" and ann["add_ons"] == ""
    assert ann[f"q{size}: Size"] == "M" and ann[f"q{note}: Note"] == "'@home +1"
    ben = rows[1]
    assert ben["answered_at"] == "" and ben["street_address"] == "" and ben[f"q{size}: Size"] == ""


def test_the_response_rate_per_tier(app, funded):
    build(funded, [question("Colour?")])
    send(funded)
    qid = survey_of(funded).questions[0].id
    answer(app, "Cal", funded.pledges["Cal"], {**US_ADDRESS, "name": "Cal", f"q{qid}": "Red"})
    rates = {r.title: (r.answered, r.asked) for r in services.rates(survey_of(funded))}
    assert rates == {"Tier 1": (0, 2), "Tier 2": (1, 1)}
    page = funded.owner.client.get(manage_url(funded)).get_data(as_text=True)
    assert "1 of 3 backers answered (33%)" in page
    assert "<td>Tier 2</td>" in page.replace(' lang="en"', "")
