"""Changes to a live project: kept as revisions, shown to moderators as a diff they can
revert, and listed for backers when the story changed (issue 14.6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db
from app.projects.models import Project, ProjectRevision
from tests.helpers import Browser, csrf_token, gen_project, gen_user, page_text
from tests.helpers.images import png_bytes
from tests.helpers.pledging import pay_through_pages

NEW_STORY = "A story long enough for review. " * 5 + "\nNow with a brass stand."


@pytest.fixture
def owner(app, creator):
    browser = Browser(app.test_client())
    browser.login(creator.email)
    return browser


@pytest.fixture
def moderator(app):
    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    browser = Browser(app.test_client())
    browser.login("mo@example.com")
    return browser


def edit(owner, project, **fields):
    # The form as the page fills it (the test browser does not read a textarea's text).
    fields = {"blurb": project.blurb, "story": project.story.strip(), **fields}
    response = owner.submit(f"/projects/{project.id}/edit", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def revisions() -> list[ProjectRevision]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectRevision).order_by(ProjectRevision.id)))


def test_a_live_edit_is_kept_and_a_draft_edit_is_not(app, creator, project, owner):
    from app.projects import services

    draft = gen_project(creator, "draft", title="Sun Lamp")
    services.update_project(draft, {"title": "Sun Lamp II"}, creator.id)
    db.session.commit()
    assert revisions() == []
    edit(owner, project, title="Moon Lamp Deluxe", story=NEW_STORY)
    kept = {(r.field, r.old_value, r.new_value) for r in revisions()}
    assert ("title", "Moon Lamp", "Moon Lamp Deluxe") in kept
    assert {r.field for r in revisions()} == {"title", "story"}  # the blurb did not change


def test_backers_see_that_the_story_changed_and_what(app, project, owner, backer, stripe_fake):
    pay_through_pages(backer, stripe_fake, project, amount="25")
    edit(owner, project, story=NEW_STORY)
    page = page_text(Browser(app.test_client()), f"/projects/{project.id}")
    assert "Story edited on" in page and f"/projects/{project.id}/changes" in page
    changes = page_text(Browser(app.test_client()), f"/projects/{project.id}/changes")
    assert "+ Now with a brass stand." in changes


def test_no_story_note_without_backers(app, project, owner):
    edit(owner, project, story=NEW_STORY)
    assert "Story edited on" not in page_text(Browser(app.test_client()), f"/projects/{project.id}")


def test_a_moderator_sees_the_diff_and_reverts_it(app, project, owner, moderator):
    edit(owner, project, title="Moon Lamp <b>Deluxe</b>")
    review = page_text(moderator, f"/moderation/projects/{project.id}")
    assert "Changes since launch" in review
    assert "\N{MINUS SIGN} Moon Lamp" in review
    assert "+ Moon Lamp &lt;b&gt;Deluxe&lt;/b&gt;" in review
    (change,) = revisions()
    response = moderator.submit(
        f"/moderation/projects/{project.id}", action=f"/moderation/revisions/{change.id}/revert"
    )
    assert response.status_code == 302
    assert db.session.get(Project, project.id).title == "Moon Lamp"
    first, undo = revisions()
    assert first.reverted_at is not None
    assert (undo.field, undo.old_value, undo.new_value) == (
        "title",
        "Moon Lamp <b>Deluxe</b>",
        "Moon Lamp",
    )


def test_a_revert_that_would_lose_a_newer_change_is_refused(app, project, owner, moderator):
    edit(owner, project, title="Moon Lamp II")
    edit(owner, project, title="Moon Lamp III")
    older = revisions()[0]
    moderator.submit(
        f"/moderation/projects/{project.id}", action=f"/moderation/revisions/{older.id}/revert"
    )
    assert db.session.get(Project, project.id).title == "Moon Lamp III"
    assert "has changed again since" in page_text(moderator, f"/moderation/projects/{project.id}")
    assert revisions()[0].reverted_at is None


def test_a_new_cover_keeps_the_old_one_for_the_moderator(app, project, owner, moderator):
    from app.projects import uploads

    project.cover_image = uploads.save_cover(png_bytes((10, 20, 30)))
    db.session.commit()
    old = project.cover_image
    response = owner.client.post(
        f"/projects/{project.id}/edit",
        data={
            "csrf_token": csrf_token(owner, f"/projects/{project.id}/edit"),
            "title": project.title,
            "blurb": project.blurb,
            "story": project.story,
            "cover": (__import__("io").BytesIO(png_bytes((200, 20, 30))), "new.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (change,) = revisions()
    assert (change.field, change.old_value) == ("cover", old)
    with moderator.client.get(f"/uploads/{old}") as served:  # still served to them
        assert served.status_code == 200
    assert app.test_client().get(f"/uploads/{old}").status_code == 404
    moderator.submit(
        f"/moderation/projects/{project.id}", action=f"/moderation/revisions/{change.id}/revert"
    )
    assert db.session.get(Project, project.id).cover_image == old


def test_tier_changes_are_kept(app, project, owner):
    tier = project.tiers[0]
    response = owner.submit(f"/tiers/{tier.id}/edit", {"title": "Early moon"})
    assert response.status_code == 302
    assert ("tier_title", "Tier 1", "Early moon") in {
        (r.field, r.old_value, r.new_value) for r in revisions()
    }


def test_a_deleted_tier_keeps_its_history(app, project, owner, moderator):
    tier = project.tiers[1]  # no backers
    owner.submit(f"/tiers/{tier.id}/edit", {"title": "Renamed"})
    response = owner.submit(f"/projects/{project.id}/edit", action=f"/tiers/{tier.id}/delete")
    assert response.status_code == 302
    kept = {(r.field, r.old_value, r.tier_id) for r in revisions()}
    assert ("tier_title", "Tier 2", None) in kept and ("tier_deleted", "Renamed", None) in kept
    review = page_text(moderator, f"/moderation/projects/{project.id}")
    assert "Reward deleted" in review and "Revert this change" not in review
