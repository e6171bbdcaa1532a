"""The FAQ a creator keeps and the questions visitors ask privately, through the real pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.questions.models import FaqEntry, Question
from tests.helpers import Browser, gen_user, parse_forms
from tests.helpers.forms import field_errors


@pytest.fixture
def owner(app, creator):
    browser = Browser(app.test_client())
    browser.login(creator.email)
    return browser


@pytest.fixture
def asker(app):
    gen_user("quinn@example.com", "Quinn")
    browser = Browser(app.test_client())
    browser.login("quinn@example.com")
    return browser


def page(browser, url: str) -> str:
    response = browser.client.get(url, follow_redirects=True)  # a project's readable URL
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ask(browser, project, body: str):
    return browser.submit(
        f"/projects/{project.id}", {"body": body}, action=f"/projects/{project.id}/questions"
    )


def post(browser, url: str, data: dict):
    """A POST with the session's CSRF token, for a form the page does not offer."""
    forms = parse_forms(browser.client.get("/").get_data(as_text=True))
    (logout,) = [f for f in forms if f["action"] == "/logout"]
    return browser.client.post(url, data={"csrf_token": logout["fields"]["csrf_token"], **data})


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_creator_adds_an_entry_that_every_visitor_reads(app, project, owner):
    response = owner.submit(
        f"/projects/{project.id}/faq",
        {"question": "Does it ship to Canada?", "answer": "Yes.\nIn two weeks. <script>x</script>"},
        action=f"/projects/{project.id}/faq",
    )
    assert response.status_code == 302
    visitor = app.test_client()
    html = visitor.get(f"/projects/{project.id}", follow_redirects=True).get_data(as_text=True)
    assert "Frequently asked questions" in html
    assert "<summary" in html and "Does it ship to Canada?" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    assert "Log in to ask the creator a question." in html


def test_an_empty_or_overlong_entry_is_refused_and_nothing_is_written(app, project, owner):
    response = owner.submit(
        f"/projects/{project.id}/faq", {"question": "", "answer": "x" * 5001},
        action=f"/projects/{project.id}/faq",
    )  # fmt: skip
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert field_errors(html, "question") and field_errors(html, "answer")
    assert count(FaqEntry) == 0


def test_a_question_is_private_until_the_creator_publishes_the_answer(app, project, owner, asker):
    assert ask(asker, project, "Is the light warm or cold?").status_code == 302
    mine = page(asker, f"/projects/{project.id}")
    assert "Is the light warm or cold?" in mine and "Not answered yet." in mine
    # Nobody else reads it: not a visitor, not another user.
    assert "Is the light warm or cold?" not in page(
        Browser(app.test_client()), f"/projects/{project.id}"
    )
    # The creator is told it waits, and answers it on the FAQ page, publishing it.
    assert "1 question waits for you" in page(owner, f"/projects/{project.id}")
    (question,) = db.session.scalars(select(Question)).all()
    response = owner.submit(
        f"/projects/{project.id}/faq",
        {f"q{question.id}-answer": "Warm, 2700 K.", f"q{question.id}-publish": "y",
         f"q{question.id}-faq_question": "Is the light warm?"},
        action=f"/questions/{question.id}/answer",
    )  # fmt: skip
    assert response.status_code == 302
    assert "Warm, 2700 K." in page(asker, f"/projects/{project.id}")
    public = page(Browser(app.test_client()), f"/projects/{project.id}")
    assert "Is the light warm?" in public and "Warm, 2700 K." in public
    assert "Is the light warm or cold?" not in public  # the asker's own words stay private
    assert "Published in the FAQ." in page(owner, f"/projects/{project.id}/faq")


def test_a_second_answer_from_a_stale_page_changes_nothing(app, project, owner, asker):
    ask(asker, project, "Batteries included?")
    question = db.session.scalars(select(Question)).one()
    stale = owner.client.get(f"/projects/{project.id}/faq")  # two tabs open
    assert stale.status_code == 200
    owner.submit(
        f"/projects/{project.id}/faq", {f"q{question.id}-answer": "Yes."},
        action=f"/questions/{question.id}/answer",
    )  # fmt: skip
    again = post(owner, f"/questions/{question.id}/answer", {f"q{question.id}-answer": "No."})
    assert again.status_code == 302
    db.session.rollback()
    assert db.session.get(Question, question.id).answer == "Yes."
    assert count(FaqEntry) == 0


def test_the_creator_cannot_ask_their_own_project(app, project, owner):
    html = page(owner, f"/projects/{project.id}")
    assert "Ask the creator a question" not in html  # not offered to the creator
    response = post(owner, f"/projects/{project.id}/questions", {"body": "Hello me?"})
    assert response.status_code == 302
    assert count(Question) == 0
    html = page(owner, f"/projects/{project.id}")
    assert "This is your own project" in html


def test_an_empty_question_says_why_and_writes_nothing(app, project, asker):
    ask(asker, project, "   ")
    assert count(Question) == 0
    assert "Your question: This field is required." in page(asker, f"/projects/{project.id}")


def test_deleting_an_entry_keeps_the_answer_for_the_asker(app, project, owner, asker):
    ask(asker, project, "Colours?")
    question = db.session.scalars(select(Question)).one()
    owner.submit(
        f"/projects/{project.id}/faq",
        {f"q{question.id}-answer": "White only.", f"q{question.id}-publish": "y"},
        action=f"/questions/{question.id}/answer",
    )
    entry = db.session.scalars(select(FaqEntry)).one()
    owner.submit(f"/projects/{project.id}/faq", action=f"/faq/{entry.id}/delete")
    assert count(FaqEntry) == 0
    assert "White only." in page(asker, f"/projects/{project.id}")
    assert db.session.get(Question, question.id).faq_entry_id is None


def test_asking_is_limited_per_account(app, project, asker):
    app.config["QUESTION_LIMIT_PER_ACCOUNT"] = "2 per hour"
    assert ask(asker, project, "One?").status_code == 302
    assert ask(asker, project, "Two?").status_code == 302
    refused = ask(asker, project, "Three?")
    assert refused.status_code == 429
    assert "You have asked many questions lately" in refused.get_data(as_text=True)
    assert count(Question) == 2


def test_in_chinese(app, project, asker):
    asker.submit("/", {"locale": "zh_Hans_CN", "next": "/"}, action="/language")
    html = page(asker, f"/projects/{project.id}")
    assert "常见问题" in html and "向发起人提问" in html and "发送问题" in html
