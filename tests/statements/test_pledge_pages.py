"""The statement's pledge table, paged by seeking from a pledge id (``after``/``before``).

What the creator sees walking the links: every pledge once, in id order, the First,
Previous, Next and Last links where they lead somewhere; bad cursors show the first page.
On PostgreSQL, every page is one range scan of an index, however far it is.
"""

import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from app import clock as app_clock
from app.extensions import db
from app.pledges.models import Pledge
from app.statements import services
from tests.helpers import gen_project
from tests.helpers.fuzzing import fuzz, values
from tests.helpers.statements import gen_pledges

PER_PAGE = 3
LINKS = ("first-page", "prev-page", "next-page", "last-page")


@pytest.fixture
def ended(app, creator, monkeypatch):
    """A cancelled project (it has a statement), three pledges a page."""
    monkeypatch.setattr(services, "PLEDGES_PER_PAGE", PER_PAGE)
    return gen_project(creator, "cancelled", title="Ended")


@pytest.fixture
def other(creator):
    """Another project whose pledges come between the first one's."""
    return gen_project(creator, "cancelled", title="Other")


@pytest.fixture
def four_pledges(ended, other) -> list[int]:
    return gen_pledges([ended, other], 4)


def get(browser, url: str) -> str:
    response = browser.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def rows(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="pledge-row">\s*<td>(\d+)</td>', html)]


def links(html: str) -> dict[str, str]:
    found = dict(re.findall(r'data-testid="([a-z]+-page)" href="([^"]*)"', html))
    assert set(found) <= set(LINKS)
    return {name: href.replace("&amp;", "&") for name, href in found.items()}


def walk(browser, url: str, link: str) -> list[list[int]]:
    """The pages met following ``link`` from ``url`` until it is gone."""
    pages = []
    while True:
        html = get(browser, url)
        pages.append(rows(html))
        assert len(pages) < 50, "the links go round in circles"
        if link not in links(html):
            return pages
        url = links(html)[link]


@pytest.mark.parametrize("count", [1, 3, 4, 7, 9])
def test_walking_the_links_shows_every_pledge_once(app, ended, other, owner_browser, count):
    ids = gen_pledges([ended, other], count)
    start = f"/projects/{ended.id}/statement"
    forward = walk(owner_browser, start, "next-page")
    assert [i for page in forward for i in page] == ids  # each once, oldest first
    assert [len(page) for page in forward[:-1]] == [PER_PAGE] * (len(forward) - 1)
    assert len(forward) == -(-count // PER_PAGE)

    first = get(owner_browser, start)
    if count <= PER_PAGE:
        assert links(first) == {} and 'aria-label="Pledge pages"' not in first
        return
    assert set(links(first)) == {"next-page", "last-page"}
    last = get(owner_browser, links(first)["last-page"])
    assert set(links(last)) == {"first-page", "prev-page"}
    assert rows(last) == ids[-PER_PAGE:]
    assert links(last)["first-page"] == start
    assert rows(get(owner_browser, links(last)["first-page"])) == ids[:PER_PAGE]

    backward = walk(owner_browser, links(first)["last-page"], "prev-page")
    assert [i for page in reversed(backward) for i in page] == ids
    # Previous from a page reached by Next is the page before it, exactly.
    second = get(owner_browser, links(first)["next-page"])
    assert set(links(second)) == (
        set(LINKS) if count > 2 * PER_PAGE else {"first-page", "prev-page"}
    )
    assert rows(get(owner_browser, links(second)["prev-page"])) == ids[:PER_PAGE]


def test_page_range_and_totals(app, ended, other, owner_browser):
    ids = gen_pledges([ended, other], 7)
    first = get(owner_browser, f"/projects/{ended.id}/statement")
    assert re.search(r'data-testid="pledge-count">\(7\)<', first)
    assert f"#{ids[0]} to #{ids[2]}: 3 of 7 pledges" in first
    assert "refunded: 7" in first  # the statement counts every pledge, not the page
    last = get(owner_browser, f"/projects/{ended.id}/statement?after={ids[5]}")
    assert rows(last) == ids[6:] and f"#{ids[6]} to #{ids[6]}: 1 of 7 pledges" in last
    assert set(links(last)) == {"first-page", "prev-page"}


def test_the_page_link_carries_the_last_pledge_seen(app, ended, other, owner_browser):
    ids = gen_pledges([ended, other], 7)
    first = get(owner_browser, f"/projects/{ended.id}/statement")
    assert links(first) == {
        "next-page": f"/projects/{ended.id}/statement?after={ids[2]}",
        "last-page": f"/projects/{ended.id}/statement?before={ids[-1] + 1}",
    }
    second = get(owner_browser, links(first)["next-page"])
    assert links(second)["prev-page"] == f"/projects/{ended.id}/statement?before={ids[3]}"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "-1",
        "-9223372036854775808",
        "1.5",
        "1e3",
        "0x10",
        "2147483648",  # one beyond INTEGER, the pledge ids' type
        "9223372036854775808",  # one beyond BIGINT
        "9" * 400,
        "9" * 5000,  # more digits than Python will read
        "<script>",
        "\u0130",
    ],
)
@pytest.mark.parametrize("name", ["after", "before"])
def test_bad_cursors_show_the_first_page(app, ended, four_pledges, owner_browser, name, value):
    ids = four_pledges
    response = owner_browser.client.get(
        f"/projects/{ended.id}/statement", query_string={name: value}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert rows(html) == ids[:PER_PAGE]
    assert set(links(html)) == {"next-page", "last-page"}


@pytest.mark.parametrize("value", ["\x00", "1\x00", "\x002"])
@pytest.mark.parametrize("name", ["after", "before"])
def test_a_nul_character_is_refused(app, ended, owner_browser, name, value):
    response = owner_browser.client.get(
        f"/projects/{ended.id}/statement", query_string={name: value}
    )
    assert response.status_code == 400


INTEGER_MAX = 2**31 - 1


def test_cursors_out_of_range(app, ended, four_pledges, owner_browser):
    ids = four_pledges
    url = f"/projects/{ended.id}/statement"
    cases = {
        f"after={INTEGER_MAX}": [],  # past the end
        "before=0": [],  # before the start
        f"before={ids[0]}": [],
        f"after={ids[-1]}": [],
        "after=0": ids[:3],
        f"before={INTEGER_MAX}": ids[1:],
        f"after={ids[0]}&before={ids[1]}": ids[1:],  # after wins
        "page=2": ids[:3],  # the old page numbers: the first page
    }
    for query, shown in cases.items():
        html = get(owner_browser, f"{url}?{query}")
        assert rows(html) == shown, query
        if not shown:  # nothing here: the way back to the first and the last page
            assert "No pledges here" in html, query
            assert set(links(html)) == {"first-page", "last-page"}, query


def test_a_project_without_pledges(app, ended, other, owner_browser):
    gen_pledges([other], 5)
    html = get(owner_browser, f"/projects/{ended.id}/statement?after=1")
    assert "No pledges." in html and links(html) == {}


def test_another_projects_pledge_as_cursor_seeks_from_its_id(
    app, ended, other, four_pledges, owner_browser
):
    ids = four_pledges
    theirs = db.session.scalars(
        select(Pledge.id).where(Pledge.project_id == other.id).order_by(Pledge.id)
    ).all()
    html = get(owner_browser, f"/projects/{ended.id}/statement?after={theirs[0]}")
    assert rows(html) == [i for i in ids if i > theirs[0]][:PER_PAGE]


# ---- the query plan (PostgreSQL) ---------------------------------------------------------


def plan_of(stmt) -> str:
    sql = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    return "\n".join(db.session.scalars(text(f"EXPLAIN {sql}")))


def many_pledges(target, other, count: int) -> None:
    """``count`` pledges to ``target`` and 19 times as many to ``other`` in one INSERT ...
    SELECT, laid out as campaigns are: ``target``'s come while ``other`` has one in five,
    then ``other`` has the rest. ANALYZE tells the planner: one project is 5% of the rows,
    a big one on a platform with many."""
    backer = db.session.scalar(select(Pledge.backer_id).limit(1))
    db.session.execute(
        text(
            "INSERT INTO pledges (project_id, backer_id, tier_id, currency, amount,"
            " shipping_fee, status, created_at, end_reason, disputed)"
            " SELECT CASE WHEN mine THEN :target ELSE :other END, :backer,"
            " CASE WHEN mine THEN :target_tier ELSE :other_tier END, 'USD', 1000, 0,"
            " CAST('refunded' AS pledge_status), :now, '', false"
            " FROM (SELECT i <= :block AND i % 5 <> 0 AS mine"
            " FROM generate_series(1, :n) AS i) AS layout"
        ),
        {
            "target": target.id,
            "other": other.id,
            "target_tier": target.tiers[0].id,
            "other_tier": other.tiers[0].id,
            "backer": backer,
            "now": app_clock.now().replace(tzinfo=None),
            "block": count * 5 // 4,
            "n": 20 * count,
        },
    )
    db.session.commit()
    db.session.execute(text("ANALYZE pledges"))
    db.session.commit()


@pytest.mark.postgres
def test_every_page_is_an_index_range_scan(app, ended, other):
    gen_pledges([ended, other], 1)
    many_pledges(ended, other, 20_000)
    ids = db.session.scalars(
        select(Pledge.id).where(Pledge.project_id == ended.id).order_by(Pledge.id)
    ).all()
    assert len(ids) == 20_001
    middle, per_page = ids[10_000], 50
    queries = {
        "first": services.page_query(ended.id, per_page=per_page),
        "middle": services.page_query(ended.id, after=middle, per_page=per_page),
        "last": services.page_query(ended.id, before=ids[-1] + 1, per_page=per_page),
        "previous": services.page_query(ended.id, before=middle, per_page=per_page),
    }
    for name, stmt in queries.items():
        plan = plan_of(stmt)
        assert re.search(r"Index Scan( Backward)? using \w+ on pledges", plan), (name, plan)
        assert "Seq Scan on pledges" not in plan and "Bitmap" not in plan, (name, plan)
        assert "Sort" not in plan, (name, plan)  # the index gives the order
    # Forward, the index on (project_id, id) is sought from the cursor. Going back the
    # planner may walk the primary key down from it instead, skipping other projects'
    # pledges: it takes a project's pledges to be spread over all ids.
    for name in ("first", "middle"):
        plan = plan_of(queries[name])
        assert "Index Scan using ix_pledges_project_id on pledges" in plan, (name, plan)
    bounds = plan_of(services.bounds_query(ended.id))
    assert "ix_pledges_project_id" in bounds and "Seq Scan" not in bounds, bounds
    page = services.pledge_page(ended.id, after=middle, per_page=per_page)
    assert [p.id for p in page.pledges] == ids[10_001:10_051]
    page = services.pledge_page(ended.id, before=middle, per_page=per_page)
    assert [p.id for p in page.pledges] == ids[9_950:10_000]


@fuzz(60)
@given(
    params=st.lists(st.tuples(st.sampled_from(["after", "before", "page"]), values()), max_size=3)
)
def test_fuzzed_cursors(app, ended, four_pledges, owner_browser, params):
    url = f"/projects/{ended.id}/statement"
    response = owner_browser.client.get(url, query_string=MultiDict(params))
    event(f"answered {response.status_code}")
    assert response.status_code in (200, 400)  # 400: a NUL character
    if response.status_code == 200:
        assert len(rows(response.get_data(as_text=True))) <= PER_PAGE
