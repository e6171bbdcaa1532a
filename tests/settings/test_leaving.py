"""Leaving (issue 13.7): "delete my account" refuses while money is in motion, saying which
pledge or project keeps it; otherwise the person's data is gone, money records keep the row
as a pseudonymous reference, the books still balance, and they can never log in again.
"Download my data" is a JSON file of everything held about them."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.sessions import UserSession
from app.extensions import db
from app.follows.models import Follow
from app.notifications import preferences
from app.notifications.models import MailOptOut, Outbox
from app.notifications.sender import send_pending
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects import uploads
from app.questions.models import Question
from tests.helpers import PASSWORD, Browser, csrf_token, gen_project
from tests.helpers.images import png_bytes
from tests.helpers.pledging import assert_books_balance, latest_pledge, pay_through_pages
from tests.helpers.settling import ready_account


def delete_account(browser, password=PASSWORD, confirm="y"):
    return browser.submit(
        "/settings/account",
        {"password": password, "confirm": confirm},
        action="/settings/account/delete",
    )


def bea() -> User:
    db.session.expire_all()
    return db.session.get(User, db.session.scalar(select(Pledge.backer_id).limit(1)))


def test_delete_is_refused_while_a_pledge_is_held_naming_it(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    page = backer.client.get("/settings/account").get_data(as_text=True)
    assert "cannot be deleted while money is still in motion" in page
    assert f'href="/pledges/{pledge.id}"' in page
    assert "Moon Lamp" in page
    response = backer.client.post(
        "/settings/account/delete",
        data={
            "password": PASSWORD,
            "confirm": "y",
            "csrf_token": csrf_token(backer, "/settings/profile"),
        },
    )
    assert response.status_code == 302
    page = backer.client.get("/settings/account").get_data(as_text=True)
    assert "Your account cannot be deleted yet" in page
    assert bea().deleted_at is None
    assert backer.client.get("/my/pledges").status_code == 200  # still logged in


def test_delete_is_refused_while_a_project_is_live_naming_it(app, creator, stripe_fake):
    live = gen_project(creator, "live", title="Sun Dial")
    gen_project(creator, "submitted", title="Star Map")
    gen_project(creator, "draft", title="Old Idea")
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    page = browser.client.get("/settings/account").get_data(as_text=True)
    assert f'href="/projects/{live.id}-sun-dial"' in page
    assert "Star Map" in page
    assert "Old Idea" not in page  # a draft does not keep the account
    assert 'action="/settings/account/delete"' not in page


def test_a_wrong_password_or_no_confirmation_deletes_nothing(app, backer):
    response = delete_account(backer, password="not it")
    assert response.status_code == 400
    assert "That is not your password." in response.get_data(as_text=True)
    response = delete_account(backer, confirm=None)
    assert response.status_code == 400
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    assert backer.client.get("/my/pledges").status_code == 200


def test_deleting_anonymises_keeps_money_records_and_the_books_and_ends_log_in(
    app, backer, project, stripe_fake
):
    # Bea backed, cancelled (refunded in full), saved a project, asked, turned a mail off,
    # and has a picture and a profile.
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    backer.submit(f"/pledges/{pledge.id}/cancel")
    assert latest_pledge().status is PledgeStatus.REFUNDED
    other = gen_project(project.owner, "live", title="Star Lamp")
    user = bea()
    uid = user.id
    db.session.add(Follow(user_id=uid, project_id=other.id))
    db.session.add(Question(project_id=other.id, asker_id=uid, body="Warm light?"))
    preferences.turn_off(uid, preferences.Topic.NEW_BACKERS_DIGEST)
    user.avatar_image = uploads.save_cover(png_bytes())
    user.bio, user.location, user.website = "Hi", "Paris", "https://bea.example"
    avatar = user.avatar_image
    db.session.commit()
    assert db.session.scalars(select(Outbox).where(Outbox.user_id == uid)).all()  # receipts
    second = Browser(app.test_client())
    second.login("bea@example.com")

    response = delete_account(backer)
    assert response.status_code == 302
    home = backer.client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Your account is deleted" in home

    user = bea()
    assert user.id == uid
    assert user.display_name == "Deleted user"
    assert user.email == f"deleted-{uid}@deleted.invalid"
    assert (user.bio, user.location, user.website, user.avatar_image) == ("", "", "", None)
    assert user.deleted_at is not None
    assert not (uploads.upload_dir() / avatar).exists()
    assert db.session.scalars(select(Follow).where(Follow.user_id == uid)).all() == []
    assert db.session.scalars(select(MailOptOut).where(MailOptOut.user_id == uid)).all() == []
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == uid)).all()
    assert sessions and all(s.revoked_at is not None and s.ip == "" for s in sessions)
    # No mail to them is left to send, and none sent keeps their address.
    rows = db.session.scalars(select(Outbox).where(Outbox.user_id == uid)).all()
    assert all(r.status.value == "sent" for r in rows)
    assert all(r.to_address == user.email for r in rows)
    # The pledge, its payment and refund, and the ledger keep the row id; the books balance.
    pledge = db.session.get(Pledge, pledge.id)
    assert pledge.backer_id == uid and pledge.payments and pledge.refunds
    assert_books_balance()
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output

    # Logged out here and on the other device; the old e-mail and password open nothing.
    assert backer.client.get("/my/pledges").status_code == 302
    assert second.client.get("/my/pledges").status_code == 302
    assert Browser(app.test_client()).login("bea@example.com").status_code == 200
    login = Browser(app.test_client()).login(user.email)
    assert login.status_code == 200
    # Their public profile is gone; the project page names no one.
    assert app.test_client().get(f"/people/{uid}").status_code == 404


def test_mail_enqueued_for_a_deleted_account_is_never_sent(app, backer, tmp_path):
    uid = bea_id()
    delete_account(backer)
    from app.notifications.models import OutboxStatus

    db.session.add(
        Outbox(
            key=f"late:{uid}",
            kind="pledge_receipt_backer",
            user_id=uid,
            to_address=f"deleted-{uid}@deleted.invalid",
            status=OutboxStatus.PENDING,
        )
    )
    db.session.commit()
    sent = []

    class Backend:
        from contextlib import contextmanager

        @contextmanager
        def connect(self):
            yield sent.append

    report = send_pending(Backend())
    assert report.sent == 0 and sent == []
    assert db.session.scalars(select(Outbox).where(Outbox.user_id == uid)).all() == []


def bea_id() -> int:
    return db.session.scalar(select(User.id).where(User.email == "bea@example.com"))


def test_download_my_data_is_a_json_attachment_of_everything(app, backer, project, stripe_fake):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    uid = bea_id()
    db.session.add(Follow(user_id=uid, project_id=project.id))
    db.session.add(Question(project_id=project.id, asker_id=uid, body="Dimmable?"))
    preferences.turn_off(uid, preferences.Topic.NEW_BACKERS_DIGEST)
    db.session.commit()
    page = backer.client.get("/settings/account").get_data(as_text=True)
    assert 'href="/settings/account/data.json"' in page
    response = backer.client.get("/settings/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "bea@example.com"
    assert "password_hash" not in data["account"]
    assert data["sessions"] and "secret_hash" not in data["sessions"][0]
    (mine,) = data["pledges"]
    assert (mine["id"], mine["status"], mine["amount"]) == (pledge.id, "held", 2500)
    assert mine["payments"][0]["status"] == "succeeded"
    assert "client_secret" not in mine["payments"][0]
    assert data["follows"][0]["project_id"] == project.id
    assert data["questions_asked"][0]["body"] == "Dimmable?"
    assert data["mail_opt_outs"] == [
        {"topic": "new_backers_digest", "created_at": data["mail_opt_outs"][0]["created_at"]}
    ]
    assert any(m["kind"] == "pledge_receipt_backer" for m in data["mail"])
    assert data["projects"] == [] and data["reports_made"] == []
    # Nobody else's data: the creator's e-mail is not in it.
    assert "creator@example.com" not in response.get_data(as_text=True)


def test_a_creators_download_has_their_projects_and_payout_account(app, creator, stripe_fake):
    gen_project(creator, "live", title="Sun Dial")
    ready_account(creator, stripe_fake)
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    data = browser.client.get("/settings/account/data.json").get_json()
    assert [p["title"] for p in data["projects"]] == ["Sun Dial"]
    assert data["payout_account"]["payouts_enabled"] is True
