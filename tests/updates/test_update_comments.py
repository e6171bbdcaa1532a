"""Comments on an update (issue 14.2), through its page: the same rules as the project's
thread (backers, the creator and staff post; one level of replies; hiding; the edit window),
and a backers-only update's comments only for those who read the update."""

from __future__ import annotations

import re
from html import unescape

from app.accounts.models import Role
from app.comments.models import Comment
from app.extensions import db
from app.updates import services as updates
from tests.helpers import csrf_token, gen_project, gen_user
from tests.helpers.comments import gen_backing, signed_in
from tests.helpers.world import flashed


def bodies(html: str) -> list[str]:
    return [unescape(b) for b in re.findall(r'data-testid="comment-body">([^<]*)<', html)]


def page(browser, url: str) -> str:
    response = browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def gen_update(project, public: bool = True):
    update = updates.publish(project, project.owner_id, "Shipping news", "Boxes.", public)
    db.session.commit()
    return update


def url_of(update) -> str:
    return f"/projects/{update.project_id}/updates/{update.number}"


def say(browser, update, body: str, parent: Comment | None = None):
    """Post through the update page's form (the reply form of ``parent`` if given)."""
    data = {"body": body, **({"parent_id": str(parent.id)} if parent else {})}
    action = f"/projects/{update.project_id}/comments/new?update={update.id}"
    return browser.submit(url_of(update), data, action=action)


def newest() -> Comment:
    db.session.rollback()
    return db.session.query(Comment).order_by(Comment.id.desc()).first()


def post_directly(browser, update, body: str):
    """A POST to the update's thread without its form (the page shows none to this reader)."""
    return browser.client.post(
        f"/projects/{update.project_id}/comments/new?update={update.id}",
        data={"csrf_token": csrf_token(browser), "body": body},
    )


def people(app, project):
    bea = gen_user("bea@example.com", "Bea")
    gen_backing(project, bea)
    return signed_in(app, bea), signed_in(app, gen_user("otto@example.com", "Otto"))


def test_a_backer_comments_on_an_update_and_the_creator_replies(app, creator, project):
    bea, otto = people(app, project)
    update = gen_update(project)
    response = say(bea, update, "Which courier?")
    comment = newest()
    assert response.headers["Location"].endswith(f"{url_of(update)}#comment-{comment.id}")
    assert comment.update_id == update.id
    cora = signed_in(app, creator)
    say(cora, update, "DHL.", parent=comment)
    html = page(otto, url_of(update))
    assert bodies(html) == ["Which courier?", "DHL."]
    assert 'data-testid="creator-badge"' in html
    assert "Only backers can comment." in html and 'data-testid="comment-form"' not in html
    # The project's own thread is apart.
    assert bodies(page(otto, f"/projects/{project.id}/comments")) == []
    # A reply to a reply answers the comment: one level.
    say(bea, update, "Thanks!", parent=newest())
    assert newest().parent_id == comment.id


def test_someone_who_did_not_back_it_cannot_post_on_an_update(app, project):
    _, otto = people(app, project)
    update = gen_update(project)
    html = page(otto, url_of(update))
    assert "Only backers can comment." in html and 'data-testid="comment-form"' not in html
    post_directly(otto, update, "Hi")
    assert ("warning", "Only backers can comment.") in flashed(otto.client)
    assert newest() is None


def test_the_creator_hides_a_comment_on_an_update_and_the_author_edits_in_the_window(
    app, creator, project
):
    bea, otto = people(app, project)
    update = gen_update(project)
    say(bea, update, "Frist")
    comment = newest()
    response = bea.submit(f"/comments/{comment.id}/edit", {"body": "First"})
    assert response.headers["Location"].endswith(f"{url_of(update)}#comment-{comment.id}")
    assert bodies(page(otto, url_of(update))) == ["First"]
    signed_in(app, creator).submit(f"/comments/{comment.id}/hide", {"reason": "Off topic"})
    html = page(otto, url_of(update))
    assert bodies(html) == [] and "Hidden by the creator." in html
    mo = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))
    assert "Reason given: Off topic" in page(mo, url_of(update))


def test_a_backers_only_updates_comments_are_for_its_readers(app, creator, project):
    bea, otto = people(app, project)
    update = gen_update(project, public=False)
    say(bea, update, "Secret plans?")
    comment = newest()
    assert bodies(page(bea, url_of(update))) == ["Secret plans?"]
    teaser = page(otto, url_of(update))
    assert "Secret plans?" not in teaser and 'id="comments"' not in teaser
    anonymous = app.test_client().get(url_of(update)).get_data(as_text=True)
    assert "Secret plans?" not in anonymous
    # Nor through its comment's own pages, nor by posting to it.
    assert otto.client.get(f"/comments/{comment.id}/report").status_code == 404
    assert post_directly(otto, update, "Let me in").status_code == 404
    assert newest().id == comment.id


def test_a_removed_updates_comments_are_gone_and_closed(app, creator, project):
    bea, _ = people(app, project)
    update = gen_update(project)
    say(bea, update, "Nice")
    signed_in(app, creator).submit(f"{url_of(update)}/remove", {"reason": "Wrong date."})
    html = page(bea, url_of(update))
    assert "Nice" not in html and 'data-testid="comment-form"' not in html
    assert post_directly(bea, update, "Again").status_code == 404


def test_an_update_of_another_project_is_a_404(app, creator, project):
    bea, _ = people(app, project)
    other = gen_project(creator, "live", title="Other lamp")
    update = gen_update(other)
    response = bea.client.post(
        f"/projects/{project.id}/comments/new?update={update.id}",
        data={"csrf_token": csrf_token(bea), "body": "Cross"},
    )
    assert response.status_code == 404
