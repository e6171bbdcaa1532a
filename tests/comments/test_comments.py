"""Comments on a project, through the real pages: who may post, replies, edits, deleting and
hiding, the limits, and a thread page's queries."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import event, func, select

from app.accounts.models import Role
from app.comments import services as comments
from app.comments.models import Comment
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.projects.models import ProjectEvent
from tests.helpers import gen_project, gen_user
from tests.helpers.comments import gen_backing, signed_in
from tests.helpers.world import flashed


def thread_url(project) -> str:
    return f"/projects/{project.id}/comments"


def page(browser_or_client, url: str) -> str:
    client = getattr(browser_or_client, "client", browser_or_client)
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def say(browser, project, body: str, parent: Comment | None = None):
    """Post through the thread page's form (the reply form of ``parent`` if given)."""
    data = {"body": body}
    if parent is not None:
        data["parent_id"] = str(parent.id)
    return browser.submit(thread_url(project), data, action=thread_url(project) + "/new")


def count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Comment))


def only_comment() -> Comment:
    db.session.rollback()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def bodies(html: str) -> list[str]:
    return [unescape(b) for b in re.findall(r'data-testid="comment-body">([^<]*)<', html)]


def test_a_backer_comments_and_everyone_reads_it(app, project, bea):
    response = say(bea, project, "Will it ship before March?\nAsking for a friend.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{thread_url(project)}#comment-1")
    for reader in (app.test_client(), bea.client):
        html = page(reader, f"/projects/{project.id}")
        assert bodies(html) == ["Will it ship before March?\nAsking for a friend."]
        assert 'data-testid="comment-count">1<' in html
    anonymous = page(app.test_client(), thread_url(project))
    assert "Log in to comment." in anonymous and 'data-testid="comment-form"' not in anonymous


def test_someone_who_did_not_back_it_is_told_why_and_cannot_post(app, project, otto):
    html = page(otto, thread_url(project))
    assert "Only backers can comment." in html
    assert f'href="/projects/{project.id}/back"' in html  # the way in
    assert 'data-testid="comment-form"' not in html
    response = otto.client.post(
        thread_url(project) + "/new", data={"csrf_token": token_of(otto), "body": "Hi"}
    )
    assert response.status_code == 302
    assert ("warning", "Only backers can comment.") in flashed(otto.client)
    assert count() == 0


def test_the_creator_and_staff_post_and_are_marked(app, project, creator, cora, bea):
    mo = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))
    say(bea, project, "A backer's question")
    say(cora, project, "The creator's news")
    say(mo, project, "A word from the staff")
    html = page(app.test_client(), thread_url(project))
    assert bodies(html) == ["A word from the staff", "The creator's news", "A backer's question"]
    assert html.count('data-testid="creator-badge">Creator<') == 1
    assert html.count('data-testid="staff-badge">Backstage staff<') == 1


def test_refunded_backers_of_an_ended_project_still_talk_but_those_who_cancelled_do_not(
    app, creator
):
    failed = gen_project(creator, "cancelled", title="Cancelled Lamp", tiers=1)
    kept = gen_user("kept@example.com", "Kept")
    left = gen_user("left@example.com", "Left")
    gen_backing(
        failed, kept, PledgeStatus.REFUNDED, end_reason="The creator cancelled the project."
    )
    gen_backing(failed, left, PledgeStatus.REFUNDED, end_reason="Cancelled by the backer.")
    assert say(signed_in(app, kept), failed, "Sad, try again?").status_code == 302
    refused = signed_in(app, left)
    assert "Only backers can comment." in page(refused, thread_url(failed))
    assert count() == 1


def test_an_empty_or_too_long_comment_is_refused_with_a_reason(app, project, bea):
    say(bea, project, "   ")
    assert ("danger", "Your comment: This field is required.") in flashed(bea.client)
    say(bea, project, "x" * 5001)
    assert any("5000" in message for _, message in flashed(bea.client))
    assert count() == 0


def test_replies_are_one_level_deep_and_keep_their_order(app, project, bea, cora):
    say(bea, project, "First question")
    question = only_comment()
    say(cora, project, "The creator answers", parent=question)
    answer = only_comment()
    say(bea, project, "Thanks!", parent=answer)  # a reply to a reply answers the comment
    thanks = only_comment()
    assert (answer.parent_id, thanks.parent_id) == (question.id, question.id)
    html = page(app.test_client(), thread_url(project))
    assert bodies(html) == ["First question", "The creator answers", "Thanks!"]
    assert html.count('data-testid="reply"') == 2


def test_a_reply_to_a_comment_of_another_project_is_refused(app, creator, project, bea):
    other = gen_project(creator, "live", title="Other Lamp")
    outsider = gen_user("out@example.com", "Out")
    gen_backing(other, outsider)
    say(signed_in(app, outsider), other, "Elsewhere")
    elsewhere = only_comment()
    say(bea, project, "Sneaky", parent=elsewhere)
    assert ("warning", "The comment you answered is not on this page.") in flashed(bea.client)
    assert count() == 1


def test_the_author_edits_within_the_window_and_readers_see_edited(app, project, bea, clock):
    say(bea, project, "Teh lamp")
    comment = only_comment()
    edit_url = f"/comments/{comment.id}/edit"
    assert f'href="{edit_url}"' in page(bea, thread_url(project))
    bea.submit(edit_url, {"body": "The lamp"})
    html = page(app.test_client(), thread_url(project))
    assert bodies(html) == ["The lamp"] and 'data-testid="edited">edited<' in html

    clock.advance(minutes=16)
    assert f'href="{edit_url}"' not in page(bea, thread_url(project))
    assert bea.client.get(edit_url).status_code == 302
    assert ("warning", "This comment can no longer be edited.") in flashed(bea.client)
    assert only_comment().body == "The lamp"


def test_only_the_author_edits_or_deletes(app, project, bea, otto):
    say(bea, project, "Mine")
    comment = only_comment()
    assert otto.client.get(f"/comments/{comment.id}/edit").status_code == 403
    assert "Mine" in page(otto, thread_url(project))


def test_deleting_keeps_the_replies(app, project, bea, cora):
    say(bea, project, "Oops, wrong project")
    comment = only_comment()
    say(cora, project, "No worries", parent=comment)
    bea.submit(thread_url(project), action=f"/comments/{comment.id}/delete")
    html = page(app.test_client(), thread_url(project))
    assert "Comment deleted." in html and "Oops" not in html
    assert bodies(html) == ["No worries"]
    assert db.session.get(Comment, comment.id).body == ""  # the author's words are gone


def test_the_creator_hides_a_comment_and_only_moderators_read_it(app, project, bea, cora):
    say(bea, project, "Buy cheap watches at spam.example")
    comment = only_comment()
    hide_url = f"/comments/{comment.id}/hide"
    form = page(cora, hide_url)
    assert "Buy cheap watches" in form
    cora.submit(hide_url, {"reason": "Advertising"})
    for reader in (app.test_client(), bea.client, cora.client):
        html = page(reader, thread_url(project))
        assert "Hidden by the creator." in html and "cheap watches" not in html
    mo = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))
    html = page(mo, thread_url(project))
    assert "Buy cheap watches" in html and "Reason given: Advertising" in html
    assert bea.client.get(hide_url).status_code == 403


def test_a_moderators_hide_is_in_the_audit_log(app, project, bea):
    say(bea, project, "Rude words")
    comment = only_comment()
    mo = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))
    mo.submit(f"/comments/{comment.id}/hide", {"reason": "Insults"})
    html = page(app.test_client(), thread_url(project))
    assert "Hidden by a moderator." in html and "Rude words" not in html
    logged = db.session.scalars(select(ProjectEvent).where(ProjectEvent.action == "hide_comment"))
    assert [e.reason for e in logged] == [f"#{comment.id}: Insults"]


def test_hiding_needs_a_reason(app, project, bea, cora):
    say(bea, project, "Fine words")
    comment = only_comment()
    response = cora.submit(f"/comments/{comment.id}/hide", {"reason": ""})
    assert response.status_code == 200 and "This field is required." in response.get_data(
        as_text=True
    )
    assert only_comment().hidden_at is None


def test_posting_is_limited_per_account(app, project, bea):
    app.config["COMMENT_LIMIT_PER_ACCOUNT"] = "2 per minute"
    assert say(bea, project, "One").status_code == 302
    assert say(bea, project, "Two").status_code == 302
    refused = say(bea, project, "Three")
    assert refused.status_code == 429
    assert "You have posted many comments lately" in refused.get_data(as_text=True)
    assert count() == 2


def test_comments_of_a_private_project_are_not_there(app, creator, otto):
    draft = gen_project(creator, "draft", title="Secret Lamp")
    assert otto.client.get(thread_url(draft)).status_code == 404
    owner = signed_in(app, creator)
    assert "Comments open once the project is live." in page(owner, thread_url(draft))


def _thread_with(project, authors, top: int) -> None:
    """``top`` comments, each with two replies, through the services."""
    backer, creator = authors
    for i in range(top):
        comment = comments.post(project, backer, f"Comment {i}")
        comments.post(project, creator, f"Reply {i}a", parent_id=comment.id)
        comments.post(project, backer, f"Reply {i}b", parent_id=comment.id)
    db.session.commit()


def _statements_for(client, url: str) -> int:
    statements: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return len(statements)


def test_a_thread_page_takes_the_same_queries_for_5_or_50_comments(app, creator):
    app.config["COMMENTS_PER_PAGE"] = 50
    reader = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR)).client
    counts = []
    for top in (5, 50):
        target = gen_project(creator, "live", title=f"Lamp {top}")
        backer = gen_user(f"b{top}@example.com", f"B{top}")
        gen_backing(target, backer)
        _thread_with(target, (backer, creator), top)
        url = thread_url(target)
        html = page(reader, url)
        assert html.count('data-testid="comment"') == top
        assert html.count('data-testid="reply"') == 2 * top
        counts.append(_statements_for(reader, url))
    assert counts[0] == counts[1], counts


def test_pages_of_comments(app, project, bea):
    app.config["COMMENTS_PER_PAGE"] = 2
    for i in range(5):
        say(bea, project, f"Note {i}")
    assert bodies(page(bea, thread_url(project))) == ["Note 4", "Note 3"]
    last = page(bea, thread_url(project) + "?page=3")
    assert bodies(last) == ["Note 0"] and 'aria-current="page">3<' in last
    assert bodies(page(bea, thread_url(project) + "?page=99")) == ["Note 0"]
    assert bodies(page(bea, thread_url(project) + "?page=x")) == ["Note 4", "Note 3"]


def token_of(browser) -> str:
    html = browser.client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_comment_on_an_update_that_is_not_there_is_a_404(app, project, bea):
    response = bea.client.post(
        thread_url(project) + "/new?update=1", data={"csrf_token": token_of(bea), "body": "Hi"}
    )
    assert response.status_code == 404
    assert count() == 0


def test_in_chinese(app, project, bea):
    bea.submit("/", {"locale": "zh_Hans_CN", "next": "/"}, action="/language")
    say(bea, project, "你好")
    html = page(bea, f"/projects/{project.id}")
    assert "评论" in html and "你好" in html


def test_a_hidden_comment_deleted_by_its_author_keeps_its_words_for_moderators(
    app, project, bea, cora
):
    say(bea, project, "Insulting words")
    comment = only_comment()
    cora.submit(f"/comments/{comment.id}/hide", {"reason": "Insults"})
    bea.submit(thread_url(project), action=f"/comments/{comment.id}/delete")
    assert "Comment deleted." in page(app.test_client(), thread_url(project))
    mo = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))
    html = page(mo, thread_url(project))
    assert "Insulting words" in html and "Reason given: Insults" in html
