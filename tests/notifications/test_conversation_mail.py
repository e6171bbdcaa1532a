"""Mail about what people said (issue 14.3, 14.5): the creator hears of a question (a topic
they may turn off), the asker reads the answer and whether it went into the FAQ, and each
reporter is told what the moderators decided, once per report, in their language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import clock
from app.accounts.models import Role
from app.extensions import db
from app.notifications import messages
from app.notifications.models import Outbox
from app.questions import services as questions
from app.questions.models import Question
from tests.helpers import Browser, dangerous_markup, gen_user, parse_forms, project_path
from tests.helpers.notifications import (
    assert_multipart,
    clear_outbox,
    deliver,
    mail_to,
    outbox,
    text_of,
    words_of,
)
from tests.helpers.xss import PAYLOADS, storable

CORA = "creator@example.com"
QUINN = "quinn@example.com"


def signed_in(app, email: str, name: str, role: Role = Role.USER, locale: str = "") -> Browser:
    gen_user(email, name, role=role)
    browser = Browser(app.test_client())
    browser.login(email)
    if locale:
        browser.submit("/", {"locale": locale, "next": "/"}, action="/language")
    return browser


@pytest.fixture
def owner(app, creator) -> Browser:
    browser = Browser(app.test_client())
    browser.login(CORA)
    return browser


def ask(browser, project, body: str) -> Question:
    response = browser.submit(
        project_path(project), {"body": body}, action=f"/projects/{project.id}/questions"
    )
    assert response.status_code == 302
    return db.session.scalars(select(Question).order_by(Question.id.desc())).first()


def answer(owner, project, question, text: str, publish: bool):
    fields = {f"q{question.id}-answer": text, f"q{question.id}-publish": "y" if publish else None}
    response = owner.submit(
        f"/projects/{project.id}/faq", fields, action=f"/questions/{question.id}/answer"
    )
    assert response.status_code == 302


def token(browser) -> str:
    """The session's CSRF token, for a form the page no longer offers."""
    forms = parse_forms(browser.client.get("/").get_data(as_text=True))
    return next(f for f in forms if f["action"] == "/logout")["fields"]["csrf_token"]


# ---- questions ----------------------------------------------------------------------------


def test_the_creator_is_mailed_a_question_with_a_link_to_answer_it(
    app, project, owner, file_backend, mail_file
):
    quinn = signed_in(app, QUINN, "Quinn")
    clear_outbox()
    ask(quinn, project, "Is the light warm <b>or</b> cold?")
    deliver(file_backend)
    (mail,) = mail_to(mail_file, CORA)
    assert mail["Subject"] == "A question about Moon Lamp"
    text, html = assert_multipart(mail)
    assert "> Is the light warm <b>or</b> cold?" in text
    assert "Is the light warm &lt;b&gt;or&lt;/b&gt; cold?" in html
    assert f"http://127.0.0.1:5000/projects/{project.id}/faq" in text
    assert mail["List-Unsubscribe"]  # this one may be turned off
    assert "quinn@example.com" not in text and "Quinn" not in text  # the asker stays private


def test_a_creator_who_turned_questions_off_gets_none(app, project, owner):
    owner.submit("/settings/notifications", {"topic_questions_asked": None})
    ask(signed_in(app, QUINN, "Quinn"), project, "Dimmable?")
    assert outbox("question_asked_creator") == []


def test_the_asker_reads_the_answer_and_that_it_is_in_the_faq(
    app, project, owner, file_backend, mail_file
):
    quinn = signed_in(app, QUINN, "Quinn", locale="zh_Hans_CN")
    question = ask(quinn, project, "Dimmable?")
    answer(owner, project, question, "Yes, in three steps.", publish=True)
    stale = owner.client.post(  # a second answer from a stale page is refused
        f"/questions/{question.id}/answer",
        data={f"q{question.id}-answer": "Again.", "csrf_token": token(owner)},
    )
    assert stale.status_code == 302
    deliver(file_backend)
    (mail,) = mail_to(mail_file, QUINN)
    assert mail["Subject"] == "“Moon Lamp”的发起人回答了你的问题"
    text, _html = assert_multipart(mail)
    assert "> Dimmable?" in text and "> Yes, in three steps." in text
    assert "常见问题" in words_of(mail)
    assert "Again" not in text
    assert "List-Unsubscribe" not in mail  # an answer to one's own question always comes


def test_a_private_answer_says_so(app, project, owner, file_backend, mail_file):
    question = ask(signed_in(app, QUINN, "Quinn"), project, "Dimmable?")
    answer(owner, project, question, "Yes.", publish=False)
    deliver(file_backend)
    (mail,) = mail_to(mail_file, QUINN)
    assert "only you and the creator can read it" in words_of(mail)


def test_every_xss_payload_in_a_question_and_its_answer_is_harmless_in_the_mails(
    app, creator, project
):
    asker = gen_user(QUINN, "Quinn")
    asked = {}
    for payload in map(storable, PAYLOADS):
        question = questions.ask(project, asker.id, payload)
        questions.answer(question, payload)
        asked[question.id] = payload
    db.session.commit()
    rows = list(db.session.scalars(select(Outbox).where(Outbox.kind.like("question_%"))))
    assert len(rows) == 2 * len(PAYLOADS)
    payload_of = {row.id: asked[int(row.key.rsplit(":", 1)[1])] for row in rows}
    for row_id, mail in messages.compose(rows, clock.now()):
        assert not isinstance(mail, Exception), (row_id, mail)
        html = mail.get_body(("html",)).get_content()
        assert dangerous_markup(html) == [] and "<script" not in html, (row_id, html)
        lines = payload_of[row_id].strip().splitlines()
        if lines:  # the words quoted as written ("{{7*7}}" too, never evaluated)
            assert f"> {lines[0]}".rstrip() in text_of(mail), row_id


# ---- reports ----------------------------------------------------------------------------


def _report(browser, project):
    response = browser.submit(
        f"/projects/{project.id}/report", {"reason": "fraud", "details": "Stolen photos."}
    )
    assert response.status_code == 302


def test_each_reporter_hears_the_report_was_dismissed_once(app, project, file_backend, mail_file):
    ann = signed_in(app, "ann@example.com", "Ann")
    bo = signed_in(app, "bo@example.com", "Bo", locale="zh_Hans_CN")
    _report(ann, project)
    _report(bo, project)
    mo = signed_in(app, "mo@example.com", "Mo", role=Role.MODERATOR)
    response = mo.submit(
        "/moderation/reports", {"note": "The photos are the creator's own."},
        action=f"/moderation/reports/projects/{project.id}/dismiss",
    )  # fmt: skip
    assert response.status_code == 302
    deliver(file_backend)
    (to_ann,) = mail_to(mail_file, "ann@example.com")
    assert to_ann["Subject"] == "Your report about Moon Lamp"
    assert "found nothing against our rules" in words_of(to_ann)
    assert "creator's own" not in words_of(to_ann)  # the moderator's note is for the log
    (to_bo,) = mail_to(mail_file, "bo@example.com")
    assert "Moon Lamp" in to_bo["Subject"] and "举报" in to_bo["Subject"]
    deliver(file_backend)
    assert len(outbox("report_decided_reporter")) == 2


def test_a_reporter_hears_the_project_was_suspended(app, project, file_backend, mail_file):
    ann = signed_in(app, "ann@example.com", "Ann")
    _report(ann, project)
    mo = signed_in(app, "mo@example.com", "Mo", role=Role.MODERATOR)
    response = mo.client.post(
        f"/moderation/reports/projects/{project.id}/suspend",
        data={"note": "Confirmed.", "csrf_token": token(mo)},
    )
    assert response.status_code == 302
    deliver(file_backend)
    (mail,) = mail_to(mail_file, "ann@example.com")
    assert "suspended the project: every backer is refunded in full" in words_of(mail)
