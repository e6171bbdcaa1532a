"""The e-mail preferences page (issue 13.3): every topic of optional mail with a switch, the
mail that is always sent said so, and the page and the one-click unsubscribe link agree."""

from __future__ import annotations

from app.notifications import preferences
from tests.helpers import Browser, gen_user, parse_forms

ALL_TOPICS = list(preferences.Topic)


def signed_in(app):
    user = gen_user()
    browser = Browser(app.test_client())
    browser.login()
    return browser, user.id


def checked(browser) -> dict[str, bool]:
    page = browser.client.get("/settings/notifications").get_data(as_text=True)
    (form,) = [f for f in parse_forms(page) if f["action"] == ""]
    return {t.value: f"topic_{t.value}" in form["fields"] for t in ALL_TOPICS}


def test_every_topic_is_listed_on_and_money_mail_is_always_sent(app):
    browser, _ = signed_in(app)
    page = browser.client.get("/settings/notifications").get_data(as_text=True)
    for topic in ALL_TOPICS:
        assert f'name="topic_{topic.value}"' in page
        assert topic.label in page.replace("&#39;", "'")
    assert "cannot be turned off" in page
    assert checked(browser) == {t.value: True for t in ALL_TOPICS}


def test_turning_a_topic_off_and_on_again(app):
    browser, uid = signed_in(app)
    response = browser.submit("/settings/notifications", {"topic_new_backers_digest": None})
    assert response.status_code == 302
    page = browser.client.get("/settings/notifications").get_data(as_text=True)
    assert "Your e-mail preferences are saved." in page
    with app.test_request_context():
        assert not preferences.wants(uid, preferences.Topic.NEW_BACKERS_DIGEST)
    assert checked(browser)["new_backers_digest"] is False
    browser.submit("/settings/notifications", {"topic_new_backers_digest": "y"})
    with app.test_request_context():
        assert preferences.wants(uid, preferences.Topic.NEW_BACKERS_DIGEST)
    assert checked(browser)["new_backers_digest"] is True


def test_the_one_click_link_and_the_page_agree(app):
    browser, uid = signed_in(app)
    with app.test_request_context():
        token = preferences.token_for(uid, preferences.Topic.NEW_BACKERS_DIGEST)
    anyone = app.test_client()
    response = anyone.post(
        f"/mail/unsubscribe/{token}/one-click", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 302
    assert checked(browser)["new_backers_digest"] is False  # the page shows it off
    browser.submit("/settings/notifications", {"topic_new_backers_digest": "y"})
    page = anyone.get(f"/mail/unsubscribe/{token}").get_data(as_text=True)
    # Turned on again on the page: the link's page offers to turn it off once more.
    forms = [f for f in parse_forms(page) if f["method"] == "post"]
    assert forms, "the unsubscribe page should offer its button again"
    assert 'href="/settings/notifications"' in page


def test_a_post_without_csrf_is_refused(app):
    browser, uid = signed_in(app)
    response = browser.client.post("/settings/notifications", data={})
    assert response.status_code == 400
    with app.test_request_context():
        assert preferences.wants(uid, preferences.Topic.NEW_BACKERS_DIGEST)
