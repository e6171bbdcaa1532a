"""A creator's mail (issue 13.8): review decisions made on the moderation pages, the launch,
and the daily digest of new backers, which may be turned off from the mail itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.notifications.models import MailDigest, MailOptOut
from app.scheduler import send_notifications
from tests.helpers import Browser, gen_project, gen_user, project_path
from tests.helpers.notifications import (
    assert_multipart,
    clear_outbox,
    deliver,
    mail_to,
    outbox,
    text_of,
    words_of,
)
from tests.helpers.pledging import new_backer, pay_through_pages

ADA = "ada@example.com"


@pytest.fixture(autouse=True)
def scheduler_mails_to_the_file(monkeypatch, file_backend):
    """The scheduler's job sends through the test's file backend."""
    from app.notifications import sender

    monkeypatch.setattr(sender, "backend_from_config", lambda: file_backend)


CORA = "creator@example.com"


def moderate(app, project, decision: str, reason: str = ""):
    mo = Browser(app.test_client())
    if not _exists("mo@example.com"):
        gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    mo.login("mo@example.com")
    prefix = {"approve": "approve", "request-changes": "changes", "reject": "reject"}[decision]
    return mo.submit(
        f"/moderation/projects/{project.id}",
        {f"{prefix}-reason": reason},
        action=f"/moderation/projects/{project.id}/{decision}",
    )


def _exists(email: str) -> bool:
    from app.accounts.models import User

    return db.session.scalar(select(User.id).where(User.email == email)) is not None


def test_approval_tells_the_creator_how_to_launch(app, file_backend, mail_file):
    ada = gen_user()
    project = gen_project(ada, "submitted", duration_days=10)
    assert moderate(app, project, "approve", "Lovely photos.").status_code == 302
    deliver(file_backend)
    (approved,) = mail_to(mail_file, ADA)
    assert approved["Subject"] == "Moon Lamp is approved"
    text, html = assert_multipart(approved)
    assert "It is not live yet: you launch it when you are ready" in words_of(approved)
    assert "backers can pledge for 10 days" in words_of(approved)
    assert "> Lovely photos." in text and "Lovely photos." in html
    assert f"Launch your project: http://127.0.0.1:5000/projects/{project.id}" in text


def test_changes_requested_carry_the_moderators_reason_escaped(app, file_backend, mail_file):
    ada = gen_user()
    project = gen_project(ada, "submitted")
    reason = 'Add photos of the prototype <script>alert("x")</script> & a budget.'
    assert moderate(app, project, "request-changes", reason).status_code == 302
    deliver(file_backend)
    (asked,) = mail_to(mail_file, ADA)
    assert asked["Subject"] == "Moon Lamp: changes requested"
    text, html = assert_multipart(asked)
    assert f"> {reason}" in text  # the text part shows the words as written
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; a budget." in html
    assert f"http://127.0.0.1:5000/projects/{project.id}/edit" in text


def test_a_rejection_gives_the_reason_in_the_creators_language(app, file_backend, mail_file):
    ada = gen_user()
    ada.locale = "zh_Hans_CN"
    db.session.commit()
    project = gen_project(ada, "submitted")
    moderate(app, project, "reject", "Not a fit for the platform.")
    deliver(file_backend)
    (rejected,) = mail_to(mail_file, ADA)
    assert rejected["Subject"] == "“Moon Lamp”未通过审核"
    text, _html = assert_multipart(rejected)
    assert "审核员审核了您的项目“Moon Lamp”并予以拒绝" in text
    assert "> Not a fit for the platform." in text


def test_launching_confirms_the_deadline_and_the_link_to_share(app, file_backend, mail_file):
    ada = gen_user()
    project = gen_project(ada, "approved", duration_days=10, creator_timezone="Asia/Shanghai")
    browser = Browser(app.test_client())
    browser.login()
    browser.submit(f"/projects/{project.id}", action=f"/projects/{project.id}/launch")
    db.session.refresh(project)
    assert project.status.value == "live"
    deliver(file_backend)
    (launched,) = mail_to(mail_file, ADA)
    assert launched["Subject"] == "Moon Lamp is live"
    text, html = assert_multipart(launched)
    assert "CST" in text  # the deadline in the creator's zone
    assert "$1,000.00" in text and "$1,000.00" in html  # the goal
    assert f"http://127.0.0.1:5000{project_path(project)}\n" in text  # the link to share


# ---- the daily digest -------------------------------------------------------------------


def test_the_digest_lists_yesterdays_backers_once_however_often_the_job_runs(
    app, creator, project, stripe_fake, clock, runner, file_backend, mail_file
):
    clear_outbox()
    pay_through_pages(new_backer(app, "b1@example.com", "B1"), stripe_fake, project, amount="25")
    pay_through_pages(new_backer(app, "b2@example.com", "B2"), stripe_fake, project, amount="40")
    other = gen_project(creator, "live", title="Sun Lamp")
    pay_through_pages(new_backer(app, "b3@example.com", "B3"), stripe_fake, other, amount="10")
    assert runner.invoke(args=["notifications", "digest"]).output == "Digests written: 0.\n"

    clock.advance(days=1)  # past midnight (SITE_TIMEZONE, UTC here)
    send_notifications()  # the scheduler's job: writes the digest, sends it
    send_notifications()  # a second run the same day
    assert runner.invoke(args=["notifications", "digest"]).output == "Digests written: 0.\n"
    assert len(outbox("new_backers_digest_creator")) == 1
    assert db.session.scalar(select(db.func.count()).select_from(MailDigest)) == 1

    (digest,) = [m for m in mail_to(mail_file, CORA) if "new backers" in m["Subject"]]
    assert digest["Subject"] == "3 new backers for your projects"
    text, html = assert_multipart(digest)
    assert "Moon Lamp   2 backers, $65.00" in text
    assert "Sun Lamp    1 backer, $10.00" in text
    assert ">Moon Lamp</th>" in html and "2 backers, $65.00" in html
    one_click = digest["List-Unsubscribe"]
    assert one_click.startswith("<http://127.0.0.1:5000/mail/unsubscribe/")
    assert one_click.endswith("/one-click>")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert any(
        line.startswith("Stop these e-mails: http://127.0.0.1:5000/mail/unsubscribe/")
        for line in text.splitlines()
    )

    clock.advance(days=1)  # a day without new backers: no digest
    send_notifications()
    assert len(outbox("new_backers_digest_creator")) == 1


def _digest_for_cora(app, project, stripe_fake, clock, file_backend, mail_file):
    clear_outbox()
    pay_through_pages(new_backer(app, "b1@example.com", "B1"), stripe_fake, project, amount="25")
    clock.advance(days=1)
    send_notifications()
    (digest,) = [m for m in mail_to(mail_file, CORA) if "new backer" in m["Subject"]]
    return digest


def _page_link(message) -> str:
    line = next(x for x in text_of(message).splitlines() if x.startswith("Stop these e-mails"))
    return line.split(": ", 1)[1].removeprefix("http://127.0.0.1:5000")


def test_the_unsubscribe_link_asks_then_turns_the_digest_off(
    app, creator, project, stripe_fake, clock, file_backend, mail_file
):
    digest = _digest_for_cora(app, project, stripe_fake, clock, file_backend, mail_file)
    page_url = _page_link(digest)
    visitor = Browser(app.test_client())  # no log in: the signed link is enough
    page = visitor.client.get(page_url).get_data(as_text=True)
    assert "Stop these e-mails?" in page
    assert "the daily e-mail about your projects' new backers" in page.replace("&#39;", "'")
    assert db.session.scalar(select(MailOptOut)) is None  # looking turns nothing off
    # The page's form needs its CSRF token.
    assert visitor.client.post(page_url, data={}).status_code == 400
    done = visitor.submit(page_url, follow_redirects=True)
    assert "E-mails stopped" in done.get_data(as_text=True)
    (opt_out,) = db.session.scalars(select(MailOptOut)).all()
    assert (opt_out.user_id, opt_out.topic) == (creator.id, "new_backers_digest")
    assert "You no longer get" in visitor.client.get(page_url).get_data(as_text=True)

    pay_through_pages(new_backer(app, "b9@example.com", "B9"), stripe_fake, project, amount="30")
    clock.advance(days=1)
    send_notifications()
    assert len(outbox("new_backers_digest_creator")) == 1  # none since
    assert any("confirmed" in m["Subject"] for m in mail_to(mail_file, "b9@example.com"))


def test_a_mail_clients_one_click_post_turns_it_off_without_a_csrf_token(
    app, creator, project, stripe_fake, clock, file_backend, mail_file
):
    digest = _digest_for_cora(app, project, stripe_fake, clock, file_backend, mail_file)
    one_click = digest["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:5000")
    client = app.test_client()  # a mail client: no session, no CSRF token
    assert client.post(one_click, data={"List-Unsubscribe": "Nope"}).status_code == 400
    assert db.session.scalar(select(MailOptOut)) is None
    for _ in range(2):  # a second click changes nothing
        answer = client.post(one_click, data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 302
        assert "E-mails stopped" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(MailOptOut)) == 1
    assert client.get(one_click).status_code == 302  # opened in a browser: asks first


def test_a_link_that_is_not_ours_turns_nothing_off(app, creator, client):
    from app.notifications import preferences

    with app.test_request_context():
        token = preferences.token_for(creator.id, preferences.Topic.NEW_BACKERS_DIGEST)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for url in (f"/mail/unsubscribe/{forged}", "/mail/unsubscribe/x"):
        assert client.get(url).status_code == 404
        assert (
            client.post(url + "/one-click", data={"List-Unsubscribe": "One-Click"}).status_code
            == 404
        )
    assert db.session.scalar(select(MailOptOut)) is None
