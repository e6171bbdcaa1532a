"""Who reads which language: the saved choice, else Accept-Language, else English; the
footer's switch; Chinese pages with Chinese formatting (issue 12.2, 12.3, 12.10)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from app import i18n
from app.accounts.models import User
from app.extensions import db
from tests.helpers import Browser, gen_project, gen_user, parse_forms, project_path

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}

# The new route's row, in the form of the access table in tests/security/ (to be merged there):
# anonymous, another user, a backer, the owner, a moderator, an admin. A visitor's choice
# changes only the session (302 back, no row written); a signed-in one's is saved ("done").
LANGUAGE_ACCESS_ROW = {
    "accounts.language POST": {
        "any": ("redirect", "done", "done", "done", "done", "done"),
    },
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


# ---- choosing the locale ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN", "zh_Hans_CN"),
        ("zh", "zh_Hans_CN"),
        ("zh-Hans", "zh_Hans_CN"),
        ("zh-Hans-CN", "zh_Hans_CN"),
        ("zh_CN", "zh_Hans_CN"),
        ("zh-SG", "zh_Hans_CN"),
        ("en-GB", "en"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,zh-CN;q=0.5,en;q=0.3", "zh_Hans_CN"),  # the first one we speak wins
        ("de-DE,en;q=0.5,zh-CN;q=0.3", "en"),
        ("zh-TW", None),  # Traditional Chinese is not offered as Simplified
        ("zh-Hant-HK", None),
        ("fr", None),
        ("", None),
    ],
)
def test_accept_language_tags_map_to_the_locales_we_speak(header, locale):
    tags = [t.split(";")[0] for t in header.split(",") if t]
    assert i18n.best_locale(tags) == locale


def test_a_visitor_without_a_choice_reads_english(client):
    page = text(client.get("/"))
    assert html_lang(page) == "en"
    assert "Back the projects you want to exist." in page


def test_quality_values_decide_the_order(client):
    page = text(client.get("/", headers={"Accept-Language": "en;q=0.4, zh-CN;q=0.8"}))
    assert html_lang(page) == "zh-Hans-CN"


def test_a_traditional_chinese_reader_gets_english_not_simplified(client):
    assert html_lang(text(client.get("/", headers={"Accept-Language": "zh-TW"}))) == "en"


# ---- a Chinese-speaking visitor -----------------------------------------------------------


@pytest.fixture
def cny_project(app):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "live", title="Copperleaf", goal=123_400, currency="CNY")
    project.pledged_amount, project.backer_count = 123_456_78, 3
    db.session.commit()
    return project


def test_a_chinese_visitor_gets_chinese_pages_and_chinese_money(client, cny_project):
    home = text(client.get("/", headers=ZH))
    assert html_lang(home) == "zh-Hans-CN"
    assert "支持你希望成真的项目。" in home
    assert "发现项目" in home and "发起项目" in home
    assert "¥123,456.78" in home and "CN¥" not in home  # as Chinese writes yuan
    assert "还剩 30 天" in home

    discover = text(client.get("/discover", headers=ZH))
    assert "1 个众筹中的项目" in discover and "搜索标题和简介" in discover

    page = text(client.get(project_path(cny_project), headers=ZH))
    assert "支持这个项目" in page
    assert "位支持者" in page and "还剩 30 天" in page
    assert "已筹金额 · 目标 ¥1,234.00" in page
    assert "Copperleaf" in page  # the creator's own words stay as written
    assert "Back this project" not in page and "backers</p>" not in page


def test_the_same_project_in_english_writes_yuan_as_english_does(client, cny_project):
    page = text(client.get(project_path(cny_project)))
    assert "CN¥123,456.78" in page and "pledged of CN¥1,234.00 goal" in page
    assert "30 days to go" in page


def test_a_chinese_backer_gets_the_back_form_and_its_errors_in_chinese(app, cny_project):
    gen_user("bea@example.com", "Bea")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    browser = Browser(client)
    browser.login("bea@example.com")
    form = text(client.get(f"/projects/{cny_project.id}/back"))
    assert "选择回报" in form and "继续付款" in form and "支持金额" in form
    assert "¥10.00 起" in form  # the tier's minimum
    assert "本次扣款合计：%(total)s" in form  # back.js fills it in, in the page's language
    fields = {"tier_id": str(cny_project.tiers[0].id), "amount": "88,88"}
    refused = text(browser.submit(f"/projects/{cny_project.id}/back", fields))
    assert "小数请用小数点（45.50）；逗号只能用作千位分隔符，例如 1,250.50。" in refused
    fields["amount"] = "5"
    refused = text(browser.submit(f"/projects/{cny_project.id}/back", fields))
    assert "这档回报的支持金额至少为 ¥10.00。" in refused


def test_error_pages_speak_the_visitors_language(client):
    page = text(client.get("/no/such/page", headers=ZH))
    assert "页面不存在" in page and "返回首页" in page
    assert client.get("/no/such/page", headers={**ZH, "Accept": "application/json"}).json == {
        "error": "Not found",
        "message": "这里什么也没有。网址可能输错了，或者页面已不存在。",
    }


# ---- the footer's switch ------------------------------------------------------------------


def switch(browser: Browser, page: str, locale: str):
    return browser.submit(page, {"locale": locale}, action="/language")


def test_every_page_has_the_switch_in_its_footer(client, cny_project):
    for url in ("/", "/discover", project_path(cny_project), "/login", "/no/such/page"):
        forms = [f for f in parse_forms(client.get(url).get_data(as_text=True))]
        (switch_form,) = [f for f in forms if f["action"] == "/language"]
        assert switch_form["method"] == "post" and "csrf_token" in switch_form["fields"]


def test_a_visitor_switches_and_the_choice_is_kept_in_the_session(client, cny_project):
    browser = Browser(client)
    url = f"{project_path(cny_project)}?from=share"
    response = switch(browser, url, "zh_Hans_CN")
    assert response.status_code == 302
    assert response.headers["Location"] == url  # back to the same page
    page = text(client.get(url, headers={"Accept-Language": "en"}))  # the choice beats it
    assert html_lang(page) == "zh-Hans-CN" and "支持这个项目" in page
    switch(browser, "/", "en")
    assert html_lang(text(client.get("/", headers=ZH))) == "en"


def test_a_signed_in_user_switches_and_the_choice_is_saved_on_the_account(app):
    user = gen_user("ada@example.com", "Ada")
    browser = Browser(app.test_client())
    browser.login("ada@example.com")
    assert switch(browser, "/my/pledges", "zh_Hans_CN").headers["Location"] == "/my/pledges"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hans_CN"
    # Another browser, another session: the account's choice still decides.
    elsewhere = Browser(app.test_client())
    elsewhere.login("ada@example.com")
    page = text(elsewhere.client.get("/my/pledges", headers={"Accept-Language": "en"}))
    assert html_lang(page) == "zh-Hans-CN" and "我的支持" in page


def test_a_choice_made_before_logging_in_is_kept_and_saved(app):
    user = gen_user("ada@example.com", "Ada")
    browser = Browser(app.test_client())
    switch(browser, "/login", "zh_Hans_CN")
    browser.login("ada@example.com")
    assert "已登录：Ada。" in text(browser.client.get("/"))
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hans_CN"


def test_signing_up_saves_the_language_the_page_was_in(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    fields = {
        "email": "new@example.com",
        "display_name": "Xin",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    assert Browser(client).submit("/register", fields).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.locale == "zh_Hans_CN"


@pytest.mark.parametrize(
    "fields",
    [{"locale": "fr"}, {"locale": ""}, {"locale": "zh_Hans_CN", "next": "https://evil.test/"}],
)
def test_the_switch_refuses_unknown_languages_and_never_leaves_the_site(client, fields):
    response = Browser(client).submit("/", fields, action="/language")
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")
    if fields["locale"] != "zh_Hans_CN":
        assert html_lang(text(client.get("/"))) == "en"


def test_the_switch_needs_its_csrf_token(client):
    assert client.post("/language", data={"locale": "zh_Hans_CN", "next": "/"}).status_code == 400


@pytest.mark.parametrize("role", ["anonymous", "user", "moderator", "admin"])
def test_the_access_row_of_the_switch(app, role):
    """Anyone may switch, with a CSRF token; only a signed-in user's row changes."""
    from app.accounts.models import Role

    client = app.test_client()
    browser = Browser(client)
    if role != "anonymous":
        gen_user("who@example.com", "Who", role=Role(role))
        browser.login("who@example.com")
    expected = LANGUAGE_ACCESS_ROW["accounts.language POST"]["any"]
    response = switch(browser, "/discover", "zh_Hans_CN")
    assert response.status_code == 302 and response.headers["Location"] == "/discover"
    db.session.expire_all()
    saved = db.session.scalars(select(User.locale).where(User.email == "who@example.com")).all()
    if role == "anonymous":
        assert expected[0] == "redirect" and saved == []
    else:
        assert expected[1] == "done" and saved == ["zh_Hans_CN"]


def test_the_switch_answers_get_with_405(client):
    assert client.get("/language").status_code == 405


def test_the_busy_page_before_any_work_speaks_the_browsers_language():
    from app.shedding import QueueTimeout

    def never_called(environ, start_response):
        raise AssertionError("a stale request reached the app")

    shed = QueueTimeout(never_called, max_wait=10, clock=lambda: 1_000.0)
    answers = {}

    def start_response(status, headers):
        answers.update(status=status, headers=dict(headers))

    for header, words in (("zh-CN,zh;q=0.9", "现在访问的人太多了"), ("en", "very busy")):
        environ = {"HTTP_X_REQUEST_START": "t=900", "HTTP_ACCEPT_LANGUAGE": header}
        body = b"".join(shed(environ, start_response)).decode()
        assert answers["status"].startswith("503") and words in body
        assert answers["headers"]["Content-Length"] == str(len(body.encode()))


def test_on_an_error_page_the_switch_goes_back_by_the_referrer(client):
    page = client.get("/no/such/page?x=1").get_data(as_text=True)
    assert "/no/such/page" not in page  # an error page repeats nothing of the request
    (form,) = [f for f in parse_forms(page) if f["action"] == "/language"]
    response = client.post(
        "/language",
        data={**form["fields"], "locale": "zh_Hans_CN"},
        headers={"Referer": "http://localhost/no/such/page?x=1"},
    )
    assert response.headers["Location"] == "/no/such/page?x=1"
    other_site = client.post(
        "/language",
        data={**form["fields"], "locale": "en"},
        headers={"Referer": "https://evil.test/page"},
    )
    assert other_site.headers["Location"] == "/"


def test_reasons_stored_in_english_are_shown_in_the_readers_language(app):
    from app.templating import stored_text

    with app.test_request_context("/", headers=ZH):
        assert stored_text("The payment was not completed in time.") == "付款未在限定时间内完成。"
        assert stored_text("Refund refused: card expired (100%)") == (
            "Refund refused: card expired (100%)"  # not in the catalogue: as stored
        )
        assert stored_text(None) == ""
