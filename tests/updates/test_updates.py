"""Updates (issue 14.1): the creator publishes through the form, backers and followers are
mailed once through the outbox, others see a teaser of a backers-only update; edits mail
nothing; removing needs a reason that moderators see."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select

from app.accounts.models import Role
from app.extensions import db
from app.follows.models import Follow
from app.notifications import preferences, sender
from app.notifications import updates as update_mail
from app.notifications.sender import FileBackend
from app.updates.models import Update
from tests.helpers import Browser, gen_project, gen_user
from tests.helpers.forms import field_errors
from tests.helpers.images import png_bytes
from tests.helpers.notifications import gen_held_pledges, outbox, read_mail, text_of

KIND = "update_published"


def signed_in(app, email: str, name: str = "Someone", role: Role = Role.USER) -> Browser:
    gen_user(email, name, role=role)
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


def as_creator(app) -> Browser:
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    return browser


def publish(browser: Browser, project, **fields):
    data = {
        "title": "We shipped!",
        "body": "The **first** lamps left today.",
        "audience": "public",  # a select: the page's form parser reads no default for it
        **fields,
    }
    return browser.submit(f"/projects/{project.id}/updates/new", data)


def page(browser: Browser, url: str) -> str:
    response = browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def follow(project, email: str) -> int:
    user = gen_user(email, email.split("@")[0])
    db.session.add(Follow(user_id=user.id, project_id=project.id))
    db.session.commit()
    return user.id


def recipients() -> set[int]:
    return {row.user_id for row in outbox(KIND)}


def test_publishing_mails_backers_and_followers_once(app, creator, project):
    pledges = gen_held_pledges(project, 2)
    from app.pledges.models import Pledge

    backer_ids = set(db.session.scalars(select(Pledge.backer_id).where(Pledge.id.in_(pledges))))
    fan = follow(project, "fan@example.com")
    both = next(iter(backer_ids))
    db.session.add(Follow(user_id=both, project_id=project.id))  # a backer who also follows
    quiet = follow(project, "quiet@example.com")
    preferences.turn_off(quiet, preferences.Topic.PROJECT_UPDATES)
    db.session.commit()

    response = publish(as_creator(app), project)
    assert response.status_code == 302
    shown = page(as_creator(app), response.headers["Location"])
    assert "Update #1" in shown and "<strong>first</strong>" in shown

    assert recipients() == backer_ids | {fan}  # one each; the one who turned it off: none
    update = db.session.scalar(select(Update))
    rows = outbox(KIND)
    assert {r.key for r in rows} == {f"update:{update.id}:{r.user_id}" for r in rows}
    assert all(r.data == {"update_id": update.id} for r in rows)

    # Published again (a crash and a retry): nobody gets a second copy.
    update_mail.update_published(update.id, project.id, True)
    db.session.commit()
    assert len(outbox(KIND)) == len(rows)


def test_the_mail_carries_the_update(app, creator, project, tmp_path):
    gen_held_pledges(project, 1)
    publish(as_creator(app), project, body="Lamps are *packed*.")
    mbox = tmp_path / "mail.mbox"
    assert sender.send_pending(backend=FileBackend(mbox)).failed == 0
    (message,) = [m for m in read_mail(mbox) if "Update #1" in m["Subject"]]
    assert "We shipped!" in message["Subject"]
    text = text_of(message)
    assert "Lamps are *packed*." in text and "/updates/1" in text
    assert message["List-Unsubscribe"]


def test_a_second_update_is_number_two_and_the_project_page_lists_them(app, creator, project):
    creator_browser = as_creator(app)
    publish(creator_browser, project, title="First news")
    publish(creator_browser, project, title="Second news")
    assert sorted(db.session.scalars(select(Update.number))) == [1, 2]
    visitor = Browser(app.test_client())
    shown = page(visitor, f"/projects/{project.id}")
    assert shown.index("Second news") < shown.index("First news")  # newest first
    listing = page(visitor, f"/projects/{project.id}/updates")
    assert "Update #2" in listing and "Update #1" in listing


def test_a_backers_only_update_is_a_teaser_to_others(app, creator, project):
    fan = follow(project, "fan@example.com")
    publish(as_creator(app), project, title="Secret plans", body="The **colour** is teal.",
            audience="backers")  # fmt: skip
    assert fan not in recipients()
    url = f"/projects/{project.id}/updates/1"
    for visitor in (Browser(app.test_client()), signed_in(app, "nosy@example.com")):
        shown = page(visitor, url)
        assert "Secret plans" in shown and "For backers only" in shown
        assert "teal" not in shown
    moderator = signed_in(app, "mo@example.com", role=Role.MODERATOR)
    assert "teal" in page(moderator, url)
    assert "teal" in page(as_creator(app), url)


def test_a_backer_reads_a_backers_only_update(app, creator, project, backer, stripe_fake):
    from tests.helpers.pledging import pay_through_pages

    pay_through_pages(backer, stripe_fake, project)
    publish(as_creator(app), project, title="Secret plans", body="Teal.", audience="backers")
    assert "Teal." in page(backer, f"/projects/{project.id}/updates/1")
    assert len(recipients()) == 1  # the backer


def test_an_edit_is_marked_and_mails_nobody(app, creator, project):
    gen_held_pledges(project, 2)
    creator_browser = as_creator(app)
    publish(creator_browser, project)
    before = len(outbox(KIND))
    creator_browser.submit(
        f"/projects/{project.id}/updates/1/edit",
        {"title": "We shipped, mostly", "body": "Oops.", "audience": "public"},
    )
    shown = page(Browser(app.test_client()), f"/projects/{project.id}/updates/1")
    assert "We shipped, mostly" in shown and "edited" in shown
    assert len(outbox(KIND)) == before


def test_removing_needs_a_reason_moderators_see(app, creator, project):
    creator_browser = as_creator(app)
    publish(creator_browser, project)
    url = f"/projects/{project.id}/updates/1/remove"
    refused = creator_browser.submit(url, {"reason": ""})
    assert refused.status_code == 200
    assert field_errors(refused.get_data(as_text=True), "reason")
    assert db.session.scalar(select(Update.deleted_at)) is None
    creator_browser.submit(url, {"reason": "Posted the wrong date."})
    public = page(Browser(app.test_client()), f"/projects/{project.id}/updates/1")
    assert "This update was removed" in public
    assert "We shipped!" not in public and "wrong date" not in public
    moderator = signed_in(app, "mo@example.com", role=Role.MODERATOR)
    assert "Posted the wrong date." in page(moderator, f"/projects/{project.id}/updates/1")


def test_a_project_not_launched_has_no_updates(app, creator):
    upcoming = gen_project(creator, "approved", title="Sun Lamp")
    response = as_creator(app).client.get(f"/projects/{upcoming.id}/updates/new")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Update)) == 0


def test_an_image_is_re_encoded_and_shown_to_readers(app, creator, project):
    import io

    creator_browser = as_creator(app)
    response = creator_browser.submit(
        f"/projects/{project.id}/updates/new",
        {
            "title": "Photos",
            "body": "Look.",
            "audience": "public",
            "image": (io.BytesIO(png_bytes()), "a.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    name = db.session.scalar(select(Update.image))
    assert name and name.endswith(".png")
    visitor = Browser(app.test_client())
    assert f"/updates/images/{name}" in page(visitor, f"/projects/{project.id}/updates/1")
    served = visitor.client.get(f"/updates/images/{name}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    served.close()


def test_a_file_that_is_not_an_image_is_refused(app, creator, project):
    import io

    response = as_creator(app).submit(
        f"/projects/{project.id}/updates/new",
        {
            "title": "Photos",
            "body": "Look.",
            "audience": "public",
            "image": (io.BytesIO(b"<script>"), "a.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "image")
    assert db.session.scalar(select(func.count()).select_from(Update)) == 0


def _statements_to_publish(app, project) -> int:
    from app.updates import services

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        services.publish(project, project.owner_id, "News", "Body.", True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    db.session.commit()
    inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT INTO OUTBOX")]
    assert len(inserts) == 1
    return len(seen)


def test_the_fan_out_is_the_same_statements_for_3_or_30_recipients(app, creator):
    few = gen_project(creator, "live", title="Few Lamp")
    many = gen_project(creator, "live", title="Many Lamp")
    gen_held_pledges(few, 3)
    gen_held_pledges(many, 30)
    assert _statements_to_publish(app, few) == _statements_to_publish(app, many)
    assert len(outbox(KIND)) == 33


@pytest.mark.postgres
def test_two_publishes_at_once_are_numbered_one_and_two(app, creator, project):
    """Two tabs of the creator publish at the same moment, each on its own connection: the
    first holds the project row until it commits, the second waits and takes the next number."""
    from app.projects.models import Project
    from app.updates import services

    gen_held_pledges(project, 3)
    project_id = project.id
    start = threading.Barrier(2)
    numbers: list[int] = []
    errors: list[Exception] = []

    def run(title: str) -> None:
        with app.app_context():
            try:
                start.wait()
                target = db.session.get(Project, project_id)
                update = services.publish(target, target.owner_id, title, "Body.", True)
                time.sleep(0.3)  # still in the transaction: the other one must wait
                db.session.commit()
                numbers.append(update.number)
            except Exception as error:  # surfaced below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(t,)) for t in ("Tab one", "Tab two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(numbers) == [1, 2]
    assert len(outbox(KIND)) == 6  # each update to each of the three backers, once
