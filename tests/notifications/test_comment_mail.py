"""Mail about comments: a reply to your comment, and the creator's daily digest of new ones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.comments import services as comments
from app.extensions import db
from app.notifications import preferences
from app.notifications.models import MailDigest
from app.scheduler import send_notifications
from tests.helpers import gen_project, gen_user
from tests.helpers.comments import gen_backing
from tests.helpers.notifications import assert_multipart, clear_outbox, mail_to, outbox

CORA = "creator@example.com"


@pytest.fixture(autouse=True)
def scheduler_mails_to_the_file(monkeypatch, file_backend):
    from app.notifications import sender

    monkeypatch.setattr(sender, "backend_from_config", lambda: file_backend)


def comment_digests() -> int:
    kind = MailDigest.kind == "new_comments_digest_creator"
    return db.session.scalar(select(func.count()).select_from(MailDigest).where(kind))


@pytest.fixture
def bea(app, project):
    user = gen_user("bea@example.com", "Bea")
    gen_backing(project, user)
    return user


def test_the_commenter_hears_of_a_reply_but_not_of_their_own(app, creator, project, bea, mail_file):
    clear_outbox()
    question = comments.post(project, bea, "Does it come in green?")
    comments.post(project, bea, "Or blue?", parent_id=question.id)  # her own: no mail
    comments.post(project, creator, "Green, yes.\nBlue next year.", parent_id=question.id)
    db.session.commit()
    assert len(outbox("comment_reply")) == 1
    send_notifications()
    (mail,) = mail_to(mail_file, "bea@example.com")
    assert mail["Subject"] == "Cora replied to your comment on Moon Lamp"
    text, html = assert_multipart(mail)
    assert "Green, yes." in html
    assert "> Green, yes.\n> Blue next year." in text
    assert "> Does it come in green?" in text
    assert f"/projects/{project.id}/comments#comment-" in text
    assert "Stop these e-mails:" in text  # a topic: it may be turned off


def test_no_reply_mail_for_who_turned_it_off(app, creator, project, bea):
    clear_outbox()
    preferences.turn_off(bea.id, preferences.Topic.COMMENT_REPLIES)
    question = comments.post(project, bea, "Green?")
    comments.post(project, creator, "Yes.", parent_id=question.id)
    db.session.commit()
    assert outbox("comment_reply") == []


def test_the_creator_gets_one_digest_of_yesterdays_comments(
    app, creator, project, bea, clock, runner, mail_file
):
    clear_outbox()
    other = gen_project(creator, "live", title="Sun Lamp")
    gen_backing(other, bea)
    comments.post(project, bea, "One")
    comments.post(project, bea, "Two")
    comments.post(other, bea, "Three")
    comments.post(project, creator, "The creator's own: not news to her")
    db.session.commit()
    assert runner.invoke(args=["notifications", "digest"]).output == "Digests written: 0.\n"

    clock.advance(days=1)  # past midnight (SITE_TIMEZONE, UTC here)
    send_notifications()
    send_notifications()  # a second run the same day writes nothing
    assert runner.invoke(args=["notifications", "digest"]).output == "Digests written: 0.\n"
    assert len(outbox("new_comments_digest_creator")) == 1
    assert comment_digests() == 1

    (digest,) = [m for m in mail_to(mail_file, CORA) if "comment" in m["Subject"]]
    assert digest["Subject"] == "3 new comments on your projects"
    text, _html = assert_multipart(digest)
    assert "Moon Lamp   2 comments" in text and "Sun Lamp    1 comment" in text

    clock.advance(days=1)  # nothing new: no digest
    send_notifications()
    assert len(outbox("new_comments_digest_creator")) == 1


def test_no_digest_for_a_creator_who_turned_it_off(app, creator, project, bea, clock):
    clear_outbox()
    preferences.turn_off(creator.id, preferences.Topic.NEW_COMMENTS_DIGEST)
    comments.post(project, bea, "Hello")
    db.session.commit()
    clock.advance(days=1)
    send_notifications()
    assert outbox("new_comments_digest_creator") == []
    assert comment_digests() == 0


@pytest.mark.postgres
def test_two_digest_runs_at_once_write_one_digest(app, creator, project, bea, clock):
    """Two scheduler processes after midnight: each creator still gets one digest."""
    import threading

    from app.notifications import comments as comment_mail

    clear_outbox()
    comments.post(project, bea, "Hello")
    db.session.commit()
    clock.advance(days=1)
    start = threading.Barrier(2, timeout=30)
    written, errors = [], []

    def run() -> None:
        with app.app_context():
            try:
                start.wait()
                written.append(comment_mail.write_due_digests(clock.now()))
                db.session.commit()
            except Exception as error:  # surfaced below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(written) == [0, 1]
    assert len(outbox("new_comments_digest_creator")) == 1
    assert comment_digests() == 1


@pytest.mark.postgres
def test_two_moderators_hiding_at_once_hide_once(app, project, bea):
    """One hide wins; the audit log has one entry, the reason is the winner's."""
    import threading

    from app.accounts.models import Role, User
    from app.comments.models import Comment, HiddenBy
    from app.projects.models import ProjectEvent

    comment_id = comments.post(project, bea, "Rude").id
    mods = [gen_user(f"mo{i}@example.com", f"Mo {i}", role=Role.MODERATOR).id for i in range(2)]
    db.session.commit()  # (ids only below: the threads must not load through this session)
    start = threading.Barrier(2, timeout=30)
    won, errors = [], []

    def run(moderator_id: int) -> None:
        with app.app_context():
            try:
                target = db.session.get(Comment, comment_id)
                moderator = db.session.get(User, moderator_id)
                start.wait()
                won.append(
                    comments.hide(target, moderator, HiddenBy.MODERATOR, f"by {moderator_id}")
                )
                db.session.commit()
            except Exception as error:  # surfaced below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(m,)) for m in mods]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sorted(won) == [False, True]
    db.session.expire_all()
    logged = db.session.scalars(select(ProjectEvent).where(ProjectEvent.action == "hide_comment"))
    (entry,) = logged.all()
    assert db.session.get(Comment, comment_id).hidden_reason == entry.reason.split(": ", 1)[1]
