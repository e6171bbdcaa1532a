"""The creator's own words stay in the language they were written in, and pages say which
(issue 12.4): the creator picks the language on the project form; the title, blurb, story and
tiers carry ``lang`` whatever language the page around them is in."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.projects.models import Project
from tests.helpers import Browser, gen_project, gen_user, project_path
from tests.helpers.forms import PROJECT, field_errors

ZH = {"Accept-Language": "zh-CN"}


def _creator(app, email: str = "cora@example.com") -> Browser:
    gen_user(email, "Cora")
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


def _new_project(browser: Browser, **fields):
    return browser.submit("/projects/new", {**PROJECT, **fields})


def test_a_creator_writing_in_chinese_says_so_and_the_page_marks_it(app):
    browser = _creator(app)
    response = _new_project(
        browser, title="月亮灯", blurb="一盏月亮形状的灯。", text_language="zh-Hans"
    )
    assert response.status_code == 302
    project = db.session.scalar(select(Project).where(Project.title == "月亮灯"))
    assert project.text_language == "zh-Hans"

    # Drafts are private: read it as its creator, whose page is in English.
    page = browser.client.get(project_path(project)).get_data(as_text=True)
    assert re.search(r'<html lang="en"', page)
    assert re.search(r'<h1 class="h2" lang="zh-Hans">月亮灯</h1>', page)
    assert re.search(r'<p class="lead" lang="zh-Hans">一盏月亮形状的灯。</p>', page)
    assert re.search(r'data-testid="story" lang="zh-Hans"', page)


def test_a_new_project_starts_in_the_language_the_creator_reads(app):
    browser = _creator(app)
    chinese = browser.client.get("/projects/new", headers=ZH).get_data(as_text=True)
    assert re.search(r'<option selected value="zh-Hans">', chinese)
    english = browser.client.get("/projects/new").get_data(as_text=True)
    assert re.search(r'<option selected value="en">', english)
    # Each language is named in its own words, and in the reader's when they differ.
    assert "日本語 · Japanese" in english and "日本語 · 日语" in chinese


def test_an_unknown_language_is_refused_and_nothing_is_saved(app):
    browser = _creator(app)
    response = _new_project(browser, text_language="klingon")
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "text_language") == ["Not a valid choice."]
    assert db.session.scalar(select(Project)) is None


def test_a_live_projects_cards_and_tiers_carry_the_creators_language(app):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "live", title="Lampe lune", tiers=1, text_language="fr")
    page = app.test_client().get(project_path(project), headers=ZH).get_data(as_text=True)
    assert '<html lang="zh-Hans-CN"' in page  # the page is Chinese ...
    assert '<h1 class="h2" lang="fr">Lampe lune</h1>' in page  # ... its words are French
    assert '<h3 class="h6" lang="fr">Tier 1</h3>' in page
    listing = app.test_client().get("/discover").get_data(as_text=True)
    assert re.search(r'lang="fr">Lampe lune</a>', listing)
