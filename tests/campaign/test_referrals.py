"""Referrals: the creator's ?ref= tags, where each pledge's backer came from, and the
dashboard's table of pledges and money per source."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app import referrals
from app.accounts.models import Role
from app.campaign.models import ReferralTag
from app.extensions import db
from app.pledges.models import Pledge
from app.referrals import Source
from tests.helpers import Browser, gen_user, project_path
from tests.helpers.pledging import latest_pledge, new_backer, open_payment_of, pay_through_pages

OTHER_SITE = "https://News.Example.org:8443/2026/12/lamps?utm_source=mail&reader=bea@example.com"


def logged_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user.email)
    return browser


def add_tag(owner: Browser, project, tag: str, label: str = ""):
    return owner.submit(
        f"/projects/{project.id}/dashboard",
        {"tag": tag, "label": label},
        action=f"/projects/{project.id}/dashboard/tags",
    )


def tag_rows(project) -> list[tuple[str, str]]:
    db.session.expire_all()
    found = select(ReferralTag.tag, ReferralTag.label).where(ReferralTag.project_id == project.id)
    return sorted(tuple(r) for r in db.session.execute(found))


def source_table(html: str) -> list[list[str]]:
    rows = re.findall(r'data-testid="source-row">(.*?)</tr>', html, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]


def visit(browser: Browser, project, query: str = "", referer: str | None = None) -> None:
    headers = {"Referer": referer} if referer else {}
    response = browser.client.get(project_path(project) + query, headers=headers)
    assert response.status_code == 200


def test_a_visit_with_a_tag_then_a_pledge_records_the_tag(app, creator, project, stripe_fake):
    owner = logged_in(app, creator)
    assert add_tag(owner, project, "Spring-News", "April newsletter").status_code == 302
    assert tag_rows(project) == [("spring-news", "April newsletter")]
    # Someone follows the shared link (the short /projects/<id> one: the move keeps the
    # query), signs in (a fresh session keeps the memory) and pledges.
    gen_user("bea@example.com", "Bea")
    bea = Browser(app.test_client())
    landed = bea.client.get(f"/projects/{project.id}?ref=Spring-News", follow_redirects=True)
    assert landed.status_code == 200
    assert bea.login("bea@example.com").status_code == 302
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    db.session.refresh(pledge)
    assert (pledge.ref_tag, pledge.referrer_host) == ("spring-news", None)
    page = owner.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert source_table(page) == [["Tag spring-news · April newsletter", "1", "$25.00", "100%"]]
    assert f"http://127.0.0.1:5000/projects/{project.id}-" in page
    assert "?ref=spring-news" in page


def test_an_unknown_tag_is_not_recorded(app, creator, project, stripe_fake):
    owner = logged_in(app, creator)
    add_tag(owner, project, "video")
    bea = new_backer(app)
    visit(bea, project, "?ref=not-a-tag-of-ours")
    visit(bea, project, "?ref=%3Cscript%3E")
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    db.session.refresh(pledge)
    assert (pledge.ref_tag, pledge.referrer_host) == (None, None)
    # Another project's tag is not this one's either.
    assert (
        db.session.scalar(
            select(func.count()).select_from(Pledge).where(Pledge.ref_tag.is_not(None))
        )
        == 0
    )


def test_a_referer_from_another_site_records_its_host_only(app, project, stripe_fake):
    bea = new_backer(app)
    visit(bea, project, referer=OTHER_SITE)
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    db.session.refresh(pledge)
    assert (pledge.ref_tag, pledge.referrer_host) == (None, "news.example.org")


def test_our_own_host_is_not_a_referrer(app, project, stripe_fake):
    bea = new_backer(app)
    # The test client's host, and BASE_URL's: both are us.
    visit(bea, project, referer="http://localhost/discover?q=lamp")
    visit(bea, project, referer="http://127.0.0.1:5000/")
    visit(bea, project, referer="android-app://com.example.mail/")
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    db.session.refresh(pledge)
    assert (pledge.ref_tag, pledge.referrer_host) == (None, None)


def test_the_last_visit_with_a_source_wins(app, creator, project, stripe_fake):
    owner = logged_in(app, creator)
    add_tag(owner, project, "video")
    bea = new_backer(app)
    visit(bea, project, referer="https://first.example.com/")
    visit(bea, project, "?ref=video")
    visit(bea, project)  # a visit with no source (a reload, a link on our site) changes nothing
    visit(bea, project, referer="http://localhost/")
    pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    db.session.refresh(pledge)
    assert (pledge.ref_tag, pledge.referrer_host) == ("video", None)


def test_the_dashboard_counts_pledges_and_money_per_source(app, creator, project, stripe_fake):
    owner = logged_in(app, creator)
    add_tag(owner, project, "video", "Launch video")
    add_tag(owner, project, "mail")
    bea = new_backer(app, "bea@example.com", "Bea")
    visit(bea, project, "?ref=video")
    bea_pledge, _ = pay_through_pages(bea, stripe_fake, project, amount="25")
    cy = new_backer(app, "cy@example.com", "Cy")
    visit(cy, project, "?ref=video")
    pay_through_pages(cy, stripe_fake, project, amount="10")
    di = new_backer(app, "di@example.com", "Di")
    visit(di, project, referer="https://blog.example.net/post")
    di_pledge, _ = pay_through_pages(di, stripe_fake, project, tier=project.tiers[1], amount="50")
    ed = new_backer(app, "ed@example.com", "Ed")
    pay_through_pages(ed, stripe_fake, project, amount="15")
    fay = new_backer(app, "fay@example.com", "Fay")
    visit(fay, project, "?ref=mail")
    fay_pledge, _ = pay_through_pages(fay, stripe_fake, project, amount="30")
    page = owner.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert source_table(page) == [
        ["Site blog.example.net", "1", "$50.00", "38%"],
        ["Tag video · Launch video", "2", "$35.00", "26%"],
        ["Tag mail", "1", "$30.00", "23%"],
        ["Direct / unknown", "1", "$15.00", "11%"],
    ]
    # Bea raises hers to $60 (a second payment); Di and Fay cancel.
    bea.submit(
        f"/pledges/{bea_pledge.id}/change", {"tier_id": str(project.tiers[0].id), "amount": "60"}
    )
    stripe_fake.pay(open_payment_of(bea_pledge.id).stripe_payment_intent_id)
    bea.client.get(f"/pledges/{bea_pledge.id}/complete")
    assert di.submit(f"/pledges/{di_pledge.id}/cancel").status_code == 302
    assert fay.submit(f"/pledges/{fay_pledge.id}/cancel").status_code == 302
    page = owner.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert source_table(page) == [
        ["Tag video · Launch video", "2", "$70.00", "82%"],
        ["Direct / unknown", "1", "$15.00", "17%"],
    ]
    # The figures are those of the pledges themselves.
    db.session.expire_all()
    held = db.session.execute(
        select(Pledge.ref_tag, func.sum(Pledge.amount + Pledge.shipping_fee))
        .where(Pledge.project_id == project.id, Pledge.status == "held")
        .group_by(Pledge.ref_tag)
    ).all()
    assert sorted(held, key=str) == sorted([("video", 7000), (None, 1500)], key=str)
    assert "Bea" not in source_table(page).__repr__()


def test_a_removed_tag_stops_counting_and_its_pledges_keep_it(app, creator, project, stripe_fake):
    owner = logged_in(app, creator)
    add_tag(owner, project, "video", "Launch video")
    bea = new_backer(app)
    visit(bea, project, "?ref=video")
    pay_through_pages(bea, stripe_fake, project, amount="25")
    (tag_id,) = db.session.scalars(select(ReferralTag.id)).all()
    removed = owner.submit(
        f"/projects/{project.id}/dashboard",
        action=f"/projects/{project.id}/dashboard/tags/{tag_id}/remove",
    )
    assert removed.status_code == 302
    assert tag_rows(project) == []
    page = owner.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert source_table(page) == [["Tag video", "1", "$25.00", "100%"]]
    assert "No tags yet." in page
    # Its link no longer counts.
    cy = new_backer(app, "cy@example.com", "Cy")
    visit(cy, project, "?ref=video")
    pay_through_pages(cy, stripe_fake, project, amount="10")
    assert latest_pledge().ref_tag is None


def test_bad_tag_input_is_a_form_error_and_adds_nothing(app, creator, project):
    owner = logged_in(app, creator)
    cases = {
        "": "Give the tag its name",
        "no spaces": "Use only letters a to z, digits and hyphens",
        "ünïcode": "Use only letters a to z, digits and hyphens",
        "a" * 41: "Field cannot be longer than 40 characters.",
    }
    for tag, error in cases.items():
        response = add_tag(owner, project, tag)
        assert response.status_code == 400, tag
        assert error in response.get_data(as_text=True), tag
    response = add_tag(owner, project, "ok", "two\nlines")
    assert response.status_code == 400
    assert "Write it on one line" in response.get_data(as_text=True)
    response = add_tag(owner, project, "ok", "x" * 81)
    assert response.status_code == 400
    assert tag_rows(project) == []
    assert add_tag(owner, project, "OK", "<b>Mine</b>").status_code == 302
    again = add_tag(owner, project, "ok")
    assert again.status_code == 400
    assert "This project already has the tag “ok”." in again.get_data(as_text=True)
    assert tag_rows(project) == [("ok", "<b>Mine</b>")]
    page = owner.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert "&lt;b&gt;Mine&lt;/b&gt;" in page and "<b>Mine</b>" not in page


def test_staff_see_the_tags_but_only_the_owner_changes_them(app, creator, project):
    owner = logged_in(app, creator)
    add_tag(owner, project, "video")
    (tag_id,) = db.session.scalars(select(ReferralTag.id)).all()
    moderator = gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    staff = logged_in(app, moderator)
    page = staff.client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert "?ref=video" in page
    assert f'action="/projects/{project.id}/dashboard/tags"' not in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    added = staff.client.post(
        f"/projects/{project.id}/dashboard/tags", data={"csrf_token": token, "tag": "mine"}
    )
    assert added.status_code == 403
    removed = staff.client.post(
        f"/projects/{project.id}/dashboard/tags/{tag_id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 403
    assert tag_rows(project) == [("video", "")]


def test_the_memory_is_small_and_forgets_after_30_days(app):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with app.test_request_context():
        for project_id in range(1, 26):
            referrals.remember(project_id, Source("t", "x" * 60 + ".example.com"), now)
            now += timedelta(minutes=1)
        kept = referrals.carried()
        assert len(kept) <= referrals.MAX_PROJECTS
        assert "25" in kept and "1" not in kept
        assert referrals.recalled(25, now) == Source("t", "x" * 60 + ".example.com")
        assert referrals.recalled(25, now + timedelta(days=31)) is None
        referrals.remember(7, Source(), now)  # nothing to remember
        assert referrals.recalled(7, now) is None


def test_host_of_keeps_the_host_name_only():
    ours = {"backstage.example"}
    assert referrals.host_of(OTHER_SITE, ours) == "news.example.org"
    assert referrals.host_of("https://user:pw@Sub.Site.COM./a?b=c", ours) == "sub.site.com"
    assert referrals.host_of("https://backstage.example/projects/1", ours) is None
    for bad in ("", "not a url", "javascript:alert(1)", "https://[::1/", "http://a_b.com/"):
        assert referrals.host_of(bad, ours) is None
    assert referrals.host_of("https://" + "a" * 256 + ".com/", ours) is None
