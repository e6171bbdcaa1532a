"""What visitors see: discover, search, sort, pages, outcomes, and harmless user text."""

import pytest

from app.extensions import db
from tests.helpers import dangerous_markup, gen_project, gen_user, project_path


@pytest.fixture
def creator():
    return gen_user()


def titles_in(page: str, titles: list[str]) -> list[str]:
    return sorted((t for t in titles if t in page), key=page.index)


def test_discover_lists_only_live_projects(client, creator):
    gen_project(creator, "live", title="Live lamp")
    gen_project(creator, "draft", title="Draft lamp")
    gen_project(creator, "submitted", title="Queued lamp")
    gen_project(creator, "approved", title="Approved lamp")
    page = client.get("/discover").get_data(as_text=True)
    assert "Live lamp" in page
    for hidden in ("Draft lamp", "Queued lamp", "Approved lamp"):
        assert hidden not in page


def test_discover_filters_by_category_and_searches_title_and_blurb(client, creator):
    gen_project(creator, "live", title="Moon lamp", category_slug="design", blurb="A lamp.")
    gen_project(
        creator,
        "live",
        title="Space opera",
        category_slug="music",
        blurb="A rock opera about the moon.",
    )
    gen_project(creator, "live", title="Board game", category_slug="games", blurb="Dice.")
    page = client.get("/discover?category=music").get_data(as_text=True)
    assert titles_in(page, ["Moon lamp", "Space opera", "Board game"]) == ["Space opera"]
    page = client.get("/discover?q=MOON").get_data(as_text=True)
    assert titles_in(page, ["Moon lamp", "Space opera", "Board game"]) == [
        "Space opera",
        "Moon lamp",
    ]  # newest first
    page = client.get("/discover?q=100%25").get_data(as_text=True)  # wildcards are literal
    assert "No live project matches." in page


def test_discover_sorts(client, creator):
    a = gen_project(creator, "live", title="Alpha", duration_days=30)
    b = gen_project(creator, "live", title="Bravo", duration_days=5)
    c = gen_project(creator, "live", title="Charlie", duration_days=50)
    a.pledged_amount, b.pledged_amount, c.pledged_amount = 500, 9000, 100
    a.backer_count, b.backer_count, c.backer_count = 40, 2, 7
    db.session.commit()
    names = ["Alpha", "Bravo", "Charlie"]

    def order(sort):
        return titles_in(client.get(f"/discover?sort={sort}").get_data(as_text=True), names)

    assert order("newest") == ["Charlie", "Bravo", "Alpha"]
    assert order("ending") == ["Bravo", "Alpha", "Charlie"]
    assert order("funded") == ["Bravo", "Alpha", "Charlie"]
    assert order("backers") == ["Alpha", "Charlie", "Bravo"]
    assert order("nonsense") == order("newest")


def test_discover_paginates(app, client, creator):
    app.config["PROJECTS_PER_PAGE"] = 2
    for i in range(5):
        gen_project(creator, "live", title=f"Project {i}")
    first = client.get("/discover").get_data(as_text=True)
    third = client.get("/discover?page=3").get_data(as_text=True)
    assert "5 live projects" in first
    assert ("Project 4" in first, "Project 3" in first, "Project 0" in first) == (True, True, False)
    assert "Project 0" in third
    assert client.get("/discover?page=99").status_code == 200
    assert client.get("/discover?page=abc").status_code == 200


def test_project_page_shows_the_campaign(client, creator):
    project = gen_project(creator, "live", goal=250_000, currency="GBP", tiers=2)
    project.tiers[1].quantity_limit = 10
    project.tiers[1].claimed = 9
    db.session.commit()
    page = client.get(project_path(project)).get_data(as_text=True)
    for text in (
        "Moon Lamp",
        "Ada",
        "£0.00",
        "£2,500.00",
        "backers",
        "30 days to go",  # a 30-day project, just launched
        "Pledge £10.00 or more",
        "Pledge £20.00 or more",
        "1 left of 10",
        "<progress",
    ):
        assert text in page, text


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("cancelled", "Cancelled by its creator. Every backer is refunded in full."),
        ("suspended", "Suspended by our moderators. Every backer is refunded in full."),
    ],
)
def test_ended_projects_show_their_outcome(client, creator, status, text):
    project = gen_project(creator, status)
    page = client.get(project_path(project)).get_data(as_text=True)
    assert text in page
    assert "days to go" not in page


XSS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src='https://evil.example'></iframe>",
]


@pytest.mark.parametrize("payload", XSS)
def test_user_text_renders_harmlessly(client, creator, payload):
    project = gen_project(
        creator,
        "live",
        title=f"T {payload}"[:80],
        blurb=payload[:160],
        story=f"# Story\n\n{payload}\n\n" + "x" * 100,
    )
    for url in (project_path(project), "/discover", "/"):
        page = client.get(url).get_data(as_text=True)
        assert dangerous_markup(page) == [], url
        # The site's own scripts are all files (no inline script to smuggle into).
        assert "<script>" not in page
    page = client.get(project_path(project)).get_data(as_text=True)
    assert "<h1>Story</h1>" in page  # Markdown still renders


def test_markdown_story_renders_links_safely(client, creator):
    project = gen_project(
        creator, "live", story="See **our** [site](https://example.com).\n\n" + "x" * 100
    )
    page = client.get(project_path(project)).get_data(as_text=True)
    assert "<strong>our</strong>" in page
    assert 'href="https://example.com" rel="nofollow noopener noreferrer ugc"' in page
