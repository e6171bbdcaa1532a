"""Stretch goals (issue 15.6): the creator's forms and their rules, the ladder on the project
page, a goal reached once as pledges pass it, and the mail to its backers (once each, not to
those who turned off project updates)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.notifications import preferences, sender
from app.notifications import stretch as stretch_mail
from app.notifications.sender import FileBackend
from app.pledges.models import Pledge
from app.projects import services as projects
from app.projects.models import Project
from app.stretch import services as stretch
from app.stretch.models import StretchGoal
from tests.helpers import Browser, csrf_token, gen_project, page_text, project_path
from tests.helpers.forms import field_errors
from tests.helpers.notifications import gen_held_pledges, outbox, read_mail, text_of
from tests.helpers.pledging import new_backer, open_payment_of, pay_through_pages

KIND = "stretch_goal_reached"


def as_creator(app) -> Browser:
    browser = Browser(app.test_client())
    browser.login("creator@example.com")
    return browser


def add(browser: Browser, project, amount: str, title: str = "Gold edition", **fields):
    data = {"amount": amount, "title": title, "description": "A gold lamp for everyone.", **fields}
    return browser.submit(f"/projects/{project.id}/stretch-goals/new", data)


def goals(project_id: int) -> list[tuple[int, str, bool]]:
    db.session.expire_all()
    return [(g.amount, g.title, g.is_reached) for g in stretch.of_project(project_id)]


def gen_goal(project, amount: int, title: str = "Gold", description: str = "") -> StretchGoal:
    goal = stretch.add_goal(project, {"amount": amount, "title": title, "description": description})
    db.session.commit()
    return goal


# ---- the creator's forms ---------------------------------------------------------------------


def test_the_creator_adds_edits_and_removes_goals_from_the_edit_page(app, creator, project):
    browser = as_creator(app)
    edit_page = page_text(browser, f"/projects/{project.id}/edit")
    assert "No stretch goals yet." in edit_page
    assert f"/projects/{project.id}/stretch-goals/new" in edit_page

    response = add(browser, project, "1,500")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projects/{project.id}/edit#stretch-goals")
    assert goals(project.id) == [(150_000, "Gold edition", False)]
    assert "Gold edition" in page_text(browser, f"/projects/{project.id}/edit")

    goal = db.session.scalar(select(StretchGoal))
    response = browser.submit(
        f"/stretch-goals/{goal.id}/edit", {"amount": "2000", "title": "Silver edition"}
    )
    assert response.status_code == 302
    assert goals(project.id) == [(200_000, "Silver edition", False)]

    response = browser.submit(
        f"/projects/{project.id}/edit", action=f"/stretch-goals/{goal.id}/delete"
    )
    assert response.status_code == 302
    assert goals(project.id) == []


ABOVE_GOAL = "A stretch goal must be above the project's goal of $1,000.00."


@pytest.mark.parametrize(
    ("amount", "title", "field", "message"),
    [
        ("1000", "At the goal", "amount", ABOVE_GOAL),
        ("999", "Below", "amount", ABOVE_GOAL),
        ("1500", "Twice", "amount", "There is already a stretch goal at $1,500.00."),
        ("lots", "Words", "amount", None),
        ("", "Empty", "amount", None),
        ("2000", "", "title", None),
        ("2000", "x" * 81, "title", None),
        ("2000", "Two\nlines", "title", "Write it on one line, without control characters."),
    ],
)
def test_bad_goals_are_refused_with_the_reason_and_nothing_kept(
    app, creator, project, amount, title, field, message
):
    gen_goal(project, 150_000, "Existing")
    response = add(as_creator(app), project, amount, title)
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), field)
    assert errors, f"no error on {field}"
    if message:
        assert message in errors
    assert goals(project.id) == [(150_000, "Existing", False)]


def test_a_goal_must_be_above_what_is_pledged_already(app, creator, project):
    gen_held_pledges(project, 3, amount=50_000)  # $1,500 pledged
    response = add(as_creator(app), project, "1,200")
    assert field_errors(response.get_data(as_text=True), "amount") == [
        "A stretch goal must be above what is pledged so far ($1,500.00)."
    ]
    assert goals(project.id) == []


def test_a_long_description_is_refused(app, creator, project):
    response = add(as_creator(app), project, "2000", description="x" * 2001)
    assert field_errors(response.get_data(as_text=True), "description")
    assert goals(project.id) == []


def test_a_reached_goal_keeps_its_amount_and_cannot_be_removed(app, creator, project):
    goal = gen_goal(project, 110_000, "Gold")
    gen_held_pledges(project, 3, amount=50_000)
    assert stretch.reach(project.id) == [goal.id]
    db.session.commit()
    browser = as_creator(app)

    response = browser.submit(f"/stretch-goals/{goal.id}/edit", {"amount": "2000"})
    assert field_errors(response.get_data(as_text=True), "amount") == [
        "This stretch goal was reached: its amount cannot change."
    ]
    edit_url = f"/projects/{project.id}/edit"
    assert f"/stretch-goals/{goal.id}/delete" not in page_text(browser, edit_url)  # no button
    response = browser.client.post(
        f"/stretch-goals/{goal.id}/delete",
        data={"csrf_token": csrf_token(browser, edit_url)},
        headers={"Referer": f"http://localhost{edit_url}"},
    )
    assert response.status_code == 302
    after = page_text(browser, f"/projects/{project.id}/edit")
    assert "This stretch goal was reached and cannot be removed." in after
    assert goals(project.id) == [(110_000, "Gold", True)]
    # Its words may still be put better.
    response = browser.submit(f"/stretch-goals/{goal.id}/edit", {"title": "Gold, shipped"})
    assert response.status_code == 302
    assert goals(project.id) == [(110_000, "Gold, shipped", True)]


def test_goals_do_not_change_once_the_project_ended(app, creator, project):
    goal = gen_goal(project, 150_000)
    projects.cancel(project, creator, "Changed my mind.")
    db.session.commit()
    browser = as_creator(app)
    for url in (f"/projects/{project.id}/stretch-goals/new", f"/stretch-goals/{goal.id}/edit"):
        response = browser.client.get(url)
        assert response.status_code == 302, url
        assert "Stretch goals cannot change while the project is cancelled." in page_text(
            browser, response.headers["Location"]
        )
    token_page = page_text(browser, project_path(project))
    assert "Gold" in token_page  # the ladder stays on the page
    with pytest.raises(stretch.StretchGoalError):
        stretch.delete_goal(goal)
    db.session.rollback()
    assert len(goals(project.id)) == 1


def test_only_the_creator_manages_goals(app, creator, project):
    goal = gen_goal(project, 150_000)
    other = new_backer(app, "other@example.com", "Other")
    assert other.client.get(f"/projects/{project.id}/stretch-goals/new").status_code == 403
    assert other.client.get(f"/stretch-goals/{goal.id}/edit").status_code == 403
    assert other.client.get("/stretch-goals/999999/edit").status_code == 404
    draft = gen_project(creator, "draft", title="Hidden")
    assert other.client.get(f"/projects/{draft.id}/stretch-goals/new").status_code == 404


def test_a_draft_takes_goals_too(app, creator):
    draft = gen_project(creator, "draft", title="Early")
    response = add(as_creator(app), draft, "1500")
    assert response.status_code == 302
    assert goals(draft.id) == [(150_000, "Gold edition", False)]


# ---- the ladder --------------------------------------------------------------------------------


def test_the_ladder_marks_reached_goals_and_says_how_far_the_next_is(app, creator, project):
    gen_goal(project, 300_000, "Third: a film", "We film the making of.")
    gen_goal(project, 120_000, "First: gold", "Gold paint.")
    gen_goal(project, 200_000, "Second: <b>silver</b>", "Silver\nand more.")
    gen_held_pledges(project, 2, amount=40_000)  # $800: none reached, $400 to go
    html = page_text(Browser(app.test_client()), project_path(project))
    assert '<h2 class="h4" id="stretch-goals">Stretch goals</h2>' in html
    ladder = html.split('data-testid="stretch-ladder"')[1].split("</section>")[0]
    assert ladder.index("First: gold") < ladder.index("Second") < ladder.index("Third")
    assert "Reached" not in ladder
    assert "$400.00 to go to the next stretch goal." in ladder
    assert "Second: &lt;b&gt;silver&lt;/b&gt;" in ladder  # text, escaped

    db.session.execute(update(Project).values(pledged_amount=140_000))  # $600 to the second
    stretch.reach(project.id)
    db.session.commit()
    html = page_text(Browser(app.test_client()), project_path(project))
    ladder = html.split('data-testid="stretch-ladder"')[1].split("</section>")[0]
    assert ladder.count('data-testid="stretch-reached"') == 1
    first = ladder.split("First: gold")[0]
    assert "✓" in first and "Reached" in first  # a mark and a word, not a colour alone
    assert "$600.00 to go" in ladder
    assert "<ol" in ladder and ladder.count("<h3") == 3


def test_no_ladder_without_goals(app, project):
    html = page_text(Browser(app.test_client()), project_path(project))
    assert "stretch-ladder" not in html


# ---- reaching, and the mail -------------------------------------------------------------------


def backer_ids(project_id: int) -> set[int]:
    return set(db.session.scalars(select(Pledge.backer_id).where(Pledge.project_id == project_id)))


def test_a_pledge_that_passes_a_goal_reaches_it_once_and_mails_each_backer(
    app, creator, project, stripe_fake, tmp_path
):
    goal = gen_goal(project, 110_000, "Gold edition", "Every lamp in gold.")
    later = gen_goal(project, 500_000, "Film")
    gen_held_pledges(project, 2, amount=50_000)  # $1,000: the goal, not the stretch goal
    earlier = backer_ids(project.id)
    quiet = sorted(earlier)[0]
    preferences.turn_off(quiet, preferences.Topic.PROJECT_UPDATES)
    db.session.commit()
    assert stretch.reach(project.id) == []  # nothing passed yet
    assert outbox(KIND) == []

    bea = new_backer(app)
    pay_through_pages(bea, stripe_fake, project, amount="150")  # $1,150
    db.session.expire_all()
    assert db.session.get(StretchGoal, goal.id).reached_at is not None
    assert db.session.get(StretchGoal, later.id).reached_at is None
    rows = outbox(KIND)
    bea_id = db.session.scalar(select(Pledge.backer_id).order_by(Pledge.id.desc()))
    assert sorted(r.user_id for r in rows) == sorted((earlier - {quiet}) | {bea_id})
    assert {r.key for r in rows} == {f"stretch:{goal.id}:{r.user_id}" for r in rows}

    # The goal announced again (a step repeated), and more pledges: nobody hears twice.
    stretch_mail.stretch_goal_reached(goal.id, project.id)
    db.session.commit()
    cy = new_backer(app, "cy@example.com", "Cy")
    pay_through_pages(cy, stripe_fake, project, amount="30")
    assert len(outbox(KIND)) == len(rows)

    mbox = tmp_path / "mail.mbox"
    assert sender.send_pending(backend=FileBackend(mbox)).failed == 0
    mail = [m for m in read_mail(mbox) if "stretch goal reached" in m["Subject"]]
    assert len(mail) == len(rows)
    text = text_of(mail[0])
    assert " ".join(mail[0]["Subject"].split()) == "Moon Lamp: stretch goal reached, Gold edition"
    assert "Every lamp in gold." in text and "$1,100.00" in text and "#stretch-goals" in text
    assert mail[0]["List-Unsubscribe"]


def test_raising_a_pledge_past_a_goal_reaches_it(app, creator, project, stripe_fake):
    goal = gen_goal(project, 101_500)
    gen_held_pledges(project, 2, amount=50_000)
    bea = new_backer(app)
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="10")
    assert db.session.get(StretchGoal, goal.id).reached_at is None  # $1,010
    tier_id = str(project.tiers[0].id)
    bea.submit(f"/pledges/{pledge.id}/change", {"tier_id": tier_id, "amount": "20"})
    stripe_fake.pay(open_payment_of(pledge.id).stripe_payment_intent_id)
    bea.client.get(f"/pledges/{pledge.id}/complete")
    db.session.expire_all()
    assert db.session.get(StretchGoal, goal.id).reached_at is not None
    assert len(outbox(KIND)) == 3


def test_a_total_that_falls_back_keeps_the_goal_reached(app, creator, project):
    goal = gen_goal(project, 110_000, "Gold")
    gen_held_pledges(project, 3, amount=50_000)
    stretch.reach(project.id)
    db.session.commit()
    db.session.execute(update(Project).values(pledged_amount=100_000))  # a backer cancelled
    db.session.commit()
    assert goals(project.id) == [(110_000, "Gold", True)]
    html = page_text(Browser(app.test_client()), project_path(project))
    assert 'data-testid="stretch-reached"' in html
    assert "to go to the next" not in html
    assert stretch.reach(project.id) == []
    assert goal.id
