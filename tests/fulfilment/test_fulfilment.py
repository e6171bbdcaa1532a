"""Fulfilment (issue 15.8): the creator of a paid-out project marks rewards as shipped, one by
one, by tier or from a CSV (all or nothing); backers are mailed once per notice, confirm
receipt or report a problem (the creator is mailed); the project page and the creator's
profile show the share delivered."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.fulfilment.models import Shipment
from app.notifications import sender
from app.notifications.sender import FileBackend
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from tests.helpers import Browser, gen_project, gen_user, project_path
from tests.helpers.comments import signed_in
from tests.helpers.notifications import outbox, read_mail, text_of

SHIPPED = "reward_shipped_backer"
PROBLEM = "delivery_problem_creator"


def paid_out(project: Project) -> Project:
    """The project as settlement leaves a funded one: paid out, its pledges collected."""
    project.status = ProjectStatus.PAID_OUT
    db.session.commit()
    return project


def backers(project, count: int, tier: int = 0, status=PledgeStatus.COLLECTED, start: int = 0):
    pledges = []
    for i in range(start, start + count):
        user = gen_user(f"b{project.id}-{i}@example.com", f"Backer {i}")
        pledge = Pledge(
            project_id=project.id,
            backer_id=user.id,
            tier_id=project.tiers[tier].id,
            currency=project.currency,
            amount=2500,
            status=status,
            held_at=clock.now(),
        )
        db.session.add(pledge)
        pledges.append(pledge)
    db.session.commit()
    return pledges


@pytest.fixture
def funded(creator, project):
    paid_out(project)
    return project


@pytest.fixture
def cora(app, creator) -> Browser:
    return signed_in(app, creator)


def page(browser: Browser, url: str) -> str:
    response = browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def manage_url(project) -> str:
    return f"/projects/{project.id}/fulfilment"


def ship(browser, project, pledge, tracking=""):
    return browser.submit(
        manage_url(project),
        {"tracking_number": tracking},
        action=f"/projects/{project.id}/fulfilment/pledges/{pledge.id}",
    )


def upload(browser, project, text: str):
    # The page's form, with the file the creator chose.
    page_html = browser.client.get(manage_url(project)).get_data(as_text=True)
    token = page_html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return browser.client.post(
        f"/projects/{project.id}/fulfilment/upload",
        data={"csrf_token": token, "tracking": (io.BytesIO(text.encode()), "tracking.csv")},
        content_type="multipart/form-data",
    )


def shipment(pledge) -> Shipment | None:
    db.session.expire_all()
    return db.session.scalar(select(Shipment).where(Shipment.pledge_id == pledge.id))


# ---- marking ------------------------------------------------------------------------------


def test_one_pledge_is_marked_with_tracking_and_its_backer_mailed_once(app, funded, cora):
    (pledge, other) = backers(funded, 2)
    response = ship(cora, funded, pledge, "1Z999AA10123456784")
    assert response.status_code == 302
    assert shipment(pledge).tracking_number == "1Z999AA10123456784"
    assert shipment(other) is None
    assert [r.user_id for r in outbox(SHIPPED)] == [pledge.backer_id]

    # The same again: nothing new for the backer.
    ship(cora, funded, pledge, "1Z999AA10123456784")
    assert len(outbox(SHIPPED)) == 1
    html = page(cora, manage_url(funded))
    assert "already marked" in html

    # A corrected tracking number: updated, and the backer hears again.
    ship(cora, funded, pledge, "1Z999AA10123456785")
    assert shipment(pledge).tracking_number == "1Z999AA10123456785"
    assert shipment(pledge).notice == 2
    assert len(outbox(SHIPPED)) == 2


def test_the_mail_names_the_reward_and_the_tracking_number(app, funded, cora, tmp_path):
    (pledge,) = backers(funded, 1)
    ship(cora, funded, pledge, "LX123456789CN")
    mbox = tmp_path / "mail.mbox"
    assert sender.send_pending(backend=FileBackend(mbox)).failed == 0
    (message,) = [m for m in read_mail(mbox) if "on its way" in m["Subject"]]
    assert message["To"].addresses[0].addr_spec == pledge.backer.email
    text = text_of(message)
    assert "LX123456789CN" in text and "Tier 1" in text and f"/pledges/{pledge.id}" in text


def test_a_whole_tier_is_marked_and_tracking_numbers_already_given_are_kept(app, funded, cora):
    first = backers(funded, 3, tier=0)
    second = backers(funded, 2, tier=1, start=3)
    backers(funded, 1, tier=0, status=PledgeStatus.REFUNDED, start=5)  # nothing to ship
    ship(cora, funded, first[0], "KEEP-ME")
    tier = funded.tiers[0]
    response = cora.submit(
        manage_url(funded), action=f"/projects/{funded.id}/fulfilment/tiers/{tier.id}"
    )
    assert response.status_code == 302
    assert all(shipment(p) for p in first)
    assert not any(shipment(p) for p in second)
    assert shipment(first[0]).tracking_number == "KEEP-ME"
    mailed = sorted(r.user_id for r in outbox(SHIPPED))
    assert mailed == sorted(p.backer_id for p in first)  # the first one's once only
    html = page(cora, manage_url(funded))
    assert "3 of 3 shipped" in html and "0 of 2 shipped" in html


def test_a_pledge_that_was_not_collected_cannot_be_marked(app, funded, cora):
    (refunded,) = backers(funded, 1, status=PledgeStatus.REFUNDED)
    backers(funded, 1, start=1)
    response = cora.client.post(
        f"/projects/{funded.id}/fulfilment/pledges/{refunded.id}",
        data={"csrf_token": _token(cora, funded), "tracking_number": "X1"},
    )
    assert response.status_code == 302
    assert shipment(refunded) is None
    assert "Only collected pledges" in page(cora, manage_url(funded))


def test_a_pledge_of_another_project_cannot_be_marked(app, creator, funded, cora):
    elsewhere = paid_out(gen_project(creator, "live", title="Other Lamp"))
    (theirs,) = backers(elsewhere, 1)
    backers(funded, 1, start=1)
    response = cora.client.post(
        f"/projects/{funded.id}/fulfilment/pledges/{theirs.id}",
        data={"csrf_token": _token(cora, funded), "tracking_number": ""},
    )
    assert response.status_code == 302
    assert shipment(theirs) is None


def test_a_tracking_number_too_long_or_on_two_lines_is_refused(app, funded, cora):
    (pledge,) = backers(funded, 1)
    ship(cora, funded, pledge, "A" * 101)
    assert shipment(pledge) is None
    assert "100 characters" in page(cora, manage_url(funded))
    ship(cora, funded, pledge, "A\nB")
    assert shipment(pledge) is None


def test_a_live_project_is_not_marked(app, creator, project, cora):
    (pledge,) = backers(project, 1, status=PledgeStatus.HELD)
    html = page(cora, manage_url(project))
    assert "once the project is paid out" in html
    response = cora.client.post(
        f"/projects/{project.id}/fulfilment/pledges/{pledge.id}",
        data={"csrf_token": _token(cora, project), "tracking_number": ""},
    )
    assert response.status_code == 302
    assert shipment(pledge) is None


def _token(browser, project) -> str:
    html = browser.client.get(manage_url(project)).get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


# ---- the CSV ------------------------------------------------------------------------------


def test_a_csv_marks_every_line_with_or_without_header(app, funded, cora):
    a, b, c = backers(funded, 3)
    response = upload(cora, funded, f"pledge_id,tracking_number\n{a.id},TRK-A\n\n{b.id},\n")
    assert response.status_code == 302
    assert shipment(a).tracking_number == "TRK-A"
    assert shipment(b).tracking_number == ""
    assert shipment(c) is None
    assert len(outbox(SHIPPED)) == 2

    response = upload(cora, funded, f"{a.id},TRK-A2\n{c.id},TRK-C\n")  # no header
    assert response.status_code == 302
    assert shipment(a).tracking_number == "TRK-A2" and shipment(c).tracking_number == "TRK-C"
    assert len(outbox(SHIPPED)) == 4


def test_a_csv_with_a_bad_line_marks_nothing_and_names_each_bad_line(app, creator, funded, cora):
    good, other = backers(funded, 2)
    (refunded,) = backers(funded, 1, status=PledgeStatus.REFUNDED, start=2)
    elsewhere = paid_out(gen_project(creator, "live", title="Other Lamp"))
    (theirs,) = backers(elsewhere, 1, start=9)
    text = (
        "pledge_id,tracking_number\n"
        f"{good.id},OK-1\n"  # line 2: fine
        "999999,X\n"  # line 3: no such pledge
        f"{theirs.id},X\n"  # line 4: another project's
        f"{refunded.id},X\n"  # line 5: not collected
        f"{other.id},{'T' * 101}\n"  # line 6: too long
        "abc,X\n"  # line 7: not an id
        f"{good.id},AGAIN\n"  # line 8: twice
    )
    response = upload(cora, funded, text)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was marked: 7 lines are wrong." not in html
    assert "Nothing was marked: 6 lines are wrong." in html
    assert "Line 3: There is no pledge 999999." in html
    assert f"Line 4: Pledge {theirs.id} is a pledge to another project." in html
    assert f"Line 5: Pledge {refunded.id} was not collected" in html
    assert "Line 6: The tracking number is longer than 100 characters." in html
    assert "Line 7:" in html and "is not a pledge id" in html
    assert f"Line 8: Pledge {good.id} is also on line 2." in html
    assert "Line 2:" not in html
    assert db.session.scalar(select(Shipment.id)) is None  # all or nothing
    assert outbox(SHIPPED) == []


def test_a_file_that_is_not_text_is_refused(app, funded, cora):
    backers(funded, 1)
    page_html = cora.client.get(manage_url(funded)).get_data(as_text=True)
    token = page_html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = cora.client.post(
        f"/projects/{funded.id}/fulfilment/upload",
        data={"csrf_token": token, "tracking": (io.BytesIO(b"\xff\xfe\x00\x01"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not UTF-8 text" in response.get_data(as_text=True)
    assert db.session.scalar(select(Shipment.id)) is None


# ---- the backer ---------------------------------------------------------------------------


def test_the_backer_sees_the_shipment_confirms_receipt_and_can_still_report(app, funded, cora):
    (pledge,) = backers(funded, 1)
    bea = signed_in(app, pledge.backer)
    assert "Report a problem" not in page(bea, f"/pledges/{pledge.id}")
    ship(cora, funded, pledge, "TRK-77")
    html = page(bea, f"/pledges/{pledge.id}")
    assert "Shipped on" in html and "tracking TRK-77" in html and "I received it" in html

    response = bea.submit(f"/pledges/{pledge.id}", action=f"/pledges/{pledge.id}/received")
    assert response.status_code == 302
    assert shipment(pledge).received_at is not None
    html = page(bea, f"/pledges/{pledge.id}")
    assert "that it arrived" in html and "I received it" not in html
    assert "Report a problem" in html  # still, after confirming

    response = bea.submit(
        f"/pledges/{pledge.id}/problem", {"problem": "The lid is <b>cracked</b>."}
    )
    assert response.status_code == 302
    assert shipment(pledge).problem == "The lid is <b>cracked</b>."
    (mail,) = outbox(PROBLEM)
    assert mail.user_id == funded.owner_id and mail.data["problem"] == "The lid is <b>cracked</b>."
    html = page(bea, f"/pledges/{pledge.id}")
    assert "The lid is &lt;b&gt;cracked&lt;/b&gt;." in html  # shown as text, never as HTML
    # The creator sees it on their page.
    assert "The lid is &lt;b&gt;cracked&lt;/b&gt;." in page(cora, manage_url(funded))
    # Once per shipment: a second report is refused and mails nobody.
    response = bea.client.get(f"/pledges/{pledge.id}/problem")
    assert response.status_code == 302
    assert len(outbox(PROBLEM)) == 1


def test_the_problem_mail_reaches_the_creator(app, funded, cora, tmp_path):
    (pledge,) = backers(funded, 1)
    ship(cora, funded, pledge)
    bea = signed_in(app, pledge.backer)
    bea.submit(f"/pledges/{pledge.id}/problem", {"problem": "Never arrived."})
    mbox = tmp_path / "mail.mbox"
    assert sender.send_pending(backend=FileBackend(mbox)).failed == 0
    (message,) = [m for m in read_mail(mbox) if "problem" in m["Subject"]]
    assert message["To"].addresses[0].addr_spec == "creator@example.com"
    text = text_of(message)
    assert "Never arrived." in text and f"/projects/{funded.id}/fulfilment" in text


def test_an_empty_or_too_long_problem_is_refused(app, funded, cora):
    (pledge,) = backers(funded, 1)
    ship(cora, funded, pledge)
    bea = signed_in(app, pledge.backer)
    response = bea.submit(f"/pledges/{pledge.id}/problem", {"problem": "   "})
    assert response.status_code == 200
    response = bea.submit(f"/pledges/{pledge.id}/problem", {"problem": "x" * 2001})
    assert response.status_code == 200
    assert shipment(pledge).problem_at is None and outbox(PROBLEM) == []


def test_a_backer_cannot_confirm_what_was_not_shipped_nor_touch_another_pledge(app, funded, cora):
    mine, theirs = backers(funded, 2)
    ship(cora, funded, theirs)
    bea = signed_in(app, mine.backer)
    html = page(bea, f"/pledges/{mine.id}")
    token = {"csrf_token": html.split('name="csrf_token" value="')[1].split('"')[0]}
    nothing_yet = bea.client.post(f"/pledges/{mine.id}/received", data=token)
    assert nothing_yet.status_code == 302 and nothing_yet.location.endswith(f"/pledges/{mine.id}")
    shown = page(bea, f"/pledges/{mine.id}")
    assert "Your reward has not been marked as shipped yet." in shown
    assert shipment(mine) is None
    assert bea.client.post(f"/pledges/{theirs.id}/received", data=token).status_code == 404
    assert bea.client.get(f"/pledges/{theirs.id}/problem").status_code == 404
    assert shipment(theirs).received_at is None


# ---- access -------------------------------------------------------------------------------


def test_only_the_owner_and_staff_see_the_fulfilment_page(app, funded):
    from app.accounts.models import Role

    (pledge,) = backers(funded, 1)
    url = manage_url(funded)
    assert app.test_client().get(url).status_code == 302  # to the log in page
    other = signed_in(app, gen_user("rival@example.com", "Rival Creator"))
    gen_project(db.session.get(type(pledge.backer), other_id(other)), "live", title="Rival")
    assert other.client.get(url).status_code == 403
    bea = signed_in(app, pledge.backer)
    assert bea.client.get(url).status_code == 403
    response = bea.client.post(
        f"{url}/pledges/{pledge.id}", data={"csrf_token": "x", "tracking_number": ""}
    )
    assert response.status_code in (400, 403)
    mo = signed_in(app, gen_user("mo@example.com", "Mo", role=Role.MODERATOR))
    assert mo.client.get(url).status_code == 200
    assert ship(mo, funded, pledge, "STAFF-1").status_code == 302
    assert shipment(pledge).marked_by_id != funded.owner_id
    assert shipment(pledge) is not None


def other_id(browser) -> int:
    from app.accounts.models import User

    return db.session.scalar(select(User.id).where(User.email == "rival@example.com"))


def test_forms_without_csrf_are_refused(app, funded, cora):
    (pledge,) = backers(funded, 1)
    url = manage_url(funded)
    assert cora.client.post(f"{url}/pledges/{pledge.id}", data={}).status_code == 400
    tier = funded.tiers[0]
    assert cora.client.post(f"{url}/tiers/{tier.id}", data={}).status_code == 400
    assert cora.client.post(f"{url}/upload", data={}).status_code == 400
    assert shipment(pledge) is None


# ---- the shares ---------------------------------------------------------------------------


def test_the_project_page_shows_the_share_delivered(app, funded, cora):
    pledges = backers(funded, 6)
    backers(funded, 1, status=PledgeStatus.REFUNDED, start=6)  # not a reward to deliver
    assert "0% of rewards delivered" in page(Browser(app.test_client()), project_path(funded))
    for p in pledges[:5]:
        ship(cora, funded, p)
    bea = signed_in(app, pledges[0].backer)
    bea.submit(f"/pledges/{pledges[0].id}", action=f"/pledges/{pledges[0].id}/received")
    html = page(Browser(app.test_client()), project_path(funded))
    assert "83% of rewards delivered" in html  # 5 of 6, rounded down
    assert "5 of 6 rewards shipped" in html and "1 confirmed by backers" in html


def test_no_share_before_the_project_is_paid_out(app, project):
    backers(project, 1, status=PledgeStatus.HELD)
    assert "rewards delivered" not in page(Browser(app.test_client()), project_path(project))


def test_the_profile_keeps_a_delivery_record_across_projects(app, creator, funded, cora):
    lamp = backers(funded, 4)
    kettle = paid_out(gen_project(creator, "live", title="Copper Kettle"))
    pot = backers(kettle, 2, start=10)
    for p in lamp[:3]:
        ship(cora, funded, p)
    ship(cora, kettle, pot[0])
    html = page(Browser(app.test_client()), f"/people/{creator.id}")
    assert "66% of rewards delivered: 4 of 6 across 2 funded projects"  # rounded down in html
    assert "3 of 4 delivered (75%)" in html and "1 of 2 delivered (50%)" in html
