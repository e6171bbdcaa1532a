"""Sharing a project (issue 12.8): readable URLs, link previews, sitemap, robots.txt, share
links and the QR code for WeChat."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from app.accounts.models import Role
from app.extensions import db
from app.notifications.messages import absolute_url
from app.projects.domain import ProjectStatus
from app.projects.slugs import slug_of
from tests.helpers import Browser, gen_project, gen_tier, gen_user, project_path
from tests.helpers.settling import settle

BASE = "http://127.0.0.1:5000"  # BASE_URL's default: previews and the sitemap are built on it
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


class _Head(HTMLParser):
    """The page's meta tags, canonical link, JSON-LD blocks and share links."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []
        self.json_ld: list[str] = []
        self.robots = ""
        self.by_testid: dict[str, dict] = {}
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical.append(a["href"])
        if tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True
            self.json_ld.append("")
        if "data-testid" in a:
            self.by_testid[a["data-testid"]] = a

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld[-1] += data


def head_of(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


@pytest.fixture
def lamp(creator):
    """Live, USD, rewards from $10 to $45, a blurb and a cover."""
    project = gen_project(creator, "live", title="Copperleaf: a desk lamp!", tiers=1)
    project.blurb = "A lamp of folded copper leaves."
    project.cover_image = "a" * 32 + ".png"
    gen_tier(project, title="Two lamps", minimum=4500)
    gen_tier(project, title="Sticker", minimum=1000)
    db.session.commit()
    return project


# ---- readable URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Copperleaf: a desk lamp!", "copperleaf-a-desk-lamp"),
        ("Café «Zürich» & Søren", "cafe-zurich-soren"),
        ("\uff26\uff35\uff2c\uff2c width", "full-width"),  # full-width letters
        ("铜叶台灯", ""),  # no pinyin guessed from characters: just the id
        ("Copperleaf 铜叶台灯 2", "copperleaf-2"),
        ("🎉🎉🎉", ""),
        ("</script><script>alert(1)</script>", "script-script-alert-1-script"),
        ("word " * 30, "word-" * 11 + "word"),  # cut at a word boundary, at most 60
    ],
)
def test_a_slug_is_the_title_folded_to_ascii_words(title, slug):
    assert slug_of(title) == slug
    assert len(slug) <= 60


def test_the_project_page_lives_at_its_readable_url_and_old_urls_go_there(client, lamp):
    url = f"/projects/{lamp.id}-copperleaf-a-desk-lamp"
    assert project_path(lamp) == url
    page = client.get(url)
    assert page.status_code == 200
    assert "Copperleaf: a desk lamp!" in page.get_data(as_text=True)

    for old in (f"/projects/{lamp.id}", f"{url[:-5]}", f"/projects/{lamp.id}-x"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == url
    response = client.get(f"/projects/{lamp.id}?ref=mail&utm_source=a%20b&ref=2")
    assert response.status_code == 301
    assert response.headers["Location"] == f"{url}?ref=mail&utm_source=a%20b&ref=2"
    assert client.head(f"/projects/{lamp.id}").status_code == 301


def test_every_link_to_a_project_is_its_readable_url(client, lamp):
    url = f"/projects/{lamp.id}-copperleaf-a-desk-lamp"
    for page in ("/", "/discover"):
        html = client.get(page).get_data(as_text=True)
        assert f'href="{url}"' in html, page
        assert f'href="/projects/{lamp.id}"' not in html, page
    with client.application.test_request_context():  # e-mails' links too
        assert absolute_url("projects.show", project_id=lamp.id) == BASE + url


def test_a_renamed_project_sends_its_old_slug_to_the_new_one(client, lamp):
    lamp.title = "Copperleaf Mark II"
    db.session.commit()
    response = client.get(f"/projects/{lamp.id}-copperleaf-a-desk-lamp")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/projects/{lamp.id}-copperleaf-mark-ii"


def test_a_title_without_latin_letters_keeps_the_plain_url(client, creator):
    project = gen_project(creator, "live", title="铜叶台灯")
    assert client.get(f"/projects/{project.id}").status_code == 200
    response = client.get(f"/projects/{project.id}-tong-ye-tai-deng")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/projects/{project.id}"


def test_an_unknown_project_is_not_found_in_any_spelling(client, lamp):
    for url in (f"/projects/{lamp.id + 99}", f"/projects/{lamp.id + 99}-copperleaf-a-desk-lamp"):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("state", ["draft", "submitted", "rejected"])  # approved: pre-launch
def test_a_private_project_is_not_exposed_by_the_new_urls(app, client, creator, state):
    project = gen_project(creator, state, title="Secret Copperleaf")
    slugged = f"/projects/{project.id}-secret-copperleaf"
    gen_user("eve@example.com", "Eve")
    stranger = Browser(app.test_client())
    stranger.login("eve@example.com")
    for visitor in (client, stranger.client):
        for url in (f"/projects/{project.id}", slugged, f"/projects/{project.id}-guess"):
            response = visitor.get(url)
            assert response.status_code == 404, url  # not a redirect spelling the title
            assert "Secret" not in response.get_data(as_text=True)
            assert "secret" not in response.headers.get("Location", "")
    assert client.get(f"/projects/{project.id}/qr.svg").status_code == 404
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"/projects/{project.id}" not in sitemap

    gen_user("mo@example.com", "Mo", role=Role.MODERATOR)
    moderator = Browser(app.test_client())
    moderator.login("mo@example.com")
    owner = Browser(app.test_client())
    owner.login("creator@example.com")
    for allowed in (owner, moderator):  # those who may see it are sent on
        response = allowed.client.get(f"/projects/{project.id}")
        assert (response.status_code, response.headers["Location"]) == (301, slugged)
    page = owner.client.get(slugged).get_data(as_text=True)
    tags = head_of(page)
    assert tags.robots == "" and tags.meta.get("robots") == "noindex"  # not to be indexed
    assert not tags.canonical and not tags.json_ld and "og:title" not in tags.meta
    assert "share" not in tags.by_testid  # nothing to share: nobody else may see it
    assert owner.client.get(f"/projects/{project.id}/qr.svg").status_code == 404


def test_the_routes_under_a_project_keep_their_plain_urls(app, creator):
    project = gen_project(creator, "approved", title="Launch me")
    owner = Browser(app.test_client())
    owner.login("creator@example.com")
    page = owner.client.get(project_path(project)).get_data(as_text=True)
    assert f'action="/projects/{project.id}/launch"' in page
    response = owner.submit(project_path(project), action=f"/projects/{project.id}/launch")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{project.id}-launch-me"
    assert db.session.get(type(project), project.id).status is ProjectStatus.LIVE


# ---- link previews ------------------------------------------------------------------------------


def test_a_project_page_carries_its_link_preview(client, lamp):
    tags = head_of(client.get(project_path(lamp)).get_data(as_text=True))
    url = f"{BASE}/projects/{lamp.id}-copperleaf-a-desk-lamp"
    cover = f"{BASE}/uploads/{'a' * 32}.png"
    assert tags.canonical == [url]
    assert tags.meta["og:type"] == "website"
    assert tags.meta["og:title"] == tags.meta["twitter:title"] == "Copperleaf: a desk lamp!"
    assert tags.meta["og:description"] == "A lamp of folded copper leaves."
    assert tags.meta["twitter:description"] == tags.meta["description"] == lamp.blurb
    assert tags.meta["og:url"] == url
    assert tags.meta["og:image"] == tags.meta["twitter:image"] == cover
    assert tags.meta["og:image:alt"] == "Cover image of Copperleaf: a desk lamp!"
    assert tags.meta["og:locale"] == "en_US"
    assert tags.meta["twitter:card"] == "summary_large_image"
    assert (tags.meta["twitter:label1"], tags.meta["twitter:data1"]) == (
        "Rewards",
        "$10.00\u2013$45.00",
    )


def test_a_chinese_page_previews_in_chinese(client, lamp):
    tags = head_of(client.get(project_path(lamp), headers=ZH).get_data(as_text=True))
    assert tags.meta["og:locale"] == "zh_CN"
    assert tags.meta["og:title"] == "Copperleaf: a desk lamp!"  # the creator's own words
    assert tags.meta["twitter:label1"] == "回报"
    assert tags.meta["twitter:data1"] == "US$10.00\u2013US$45.00"


def test_a_project_without_cover_or_blurb_still_previews(client, creator):
    project = gen_project(creator, "live", title="Bare")
    project.cover_image, project.blurb = None, ""
    db.session.commit()
    tags = head_of(client.get(project_path(project)).get_data(as_text=True))
    assert tags.meta["twitter:card"] == "summary"
    assert "og:image" not in tags.meta
    assert tags.meta["og:description"] == "An all-or-nothing crowdfunding project on Backstage."


def test_the_json_ld_describes_the_rewards_in_decimal_strings(client, lamp):
    tags = head_of(client.get(project_path(lamp)).get_data(as_text=True))
    (block,) = tags.json_ld
    data = json.loads(block)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["name"] == "Copperleaf: a desk lamp!"
    assert data["description"] == "A lamp of folded copper leaves."
    assert data["url"] == f"{BASE}/projects/{lamp.id}-copperleaf-a-desk-lamp"
    assert data["image"] == f"{BASE}/uploads/{'a' * 32}.png"
    assert data["offers"] == {
        "@type": "AggregateOffer",
        "priceCurrency": "USD",
        "lowPrice": "10.00",
        "highPrice": "45.00",
        "offerCount": 3,
        "availability": "https://schema.org/InStock",
        "url": data["url"],
    }


def test_yen_prices_have_no_decimals_and_an_ended_project_is_out_of_stock(client, creator):
    project = gen_project(creator, "cancelled", title="Kettle", currency="JPY", tiers=2)
    data = json.loads(head_of(client.get(project_path(project)).get_data(as_text=True)).json_ld[0])
    assert (data["offers"]["lowPrice"], data["offers"]["highPrice"]) == ("1000", "2000")
    assert data["offers"]["priceCurrency"] == "JPY"
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"


def test_a_title_cannot_close_the_json_ld_script(client, creator):
    title = '</script><script>alert("x")</script><!--'
    project = gen_project(creator, "live", title=title, blurb="</SCRIPT>&<b>")
    html = client.get(project_path(project)).get_data(as_text=True)
    assert "<script>alert" not in html
    assert html.count("</script>") == html.count("<script")  # each script ends where it began
    data = json.loads(head_of(html).json_ld[0])
    assert (data["name"], data["description"]) == (title, "</SCRIPT>&<b>")


# ---- sitemap and robots.txt ---------------------------------------------------------------------


def test_the_sitemap_lists_exactly_the_live_and_ended_public_projects(
    app, client, runner, creator, clock
):
    live = gen_project(creator, "live", title="Live lamp")
    failing = gen_project(creator, "live", title="Failed lamp", duration_days=1)
    funded = gen_project(creator, "live", title="Funded lamp")
    paid = gen_project(creator, "live", title="Paid lamp")
    # Reached by settlement (tests/settlement shows how); here only the outcome matters.
    funded.status, paid.status = ProjectStatus.FUNDED, ProjectStatus.PAID_OUT
    db.session.commit()
    private = [gen_project(creator, s, title=f"{s} lamp") for s in ("draft", "submitted")]
    private += [gen_project(creator, s, title=f"{s} lamp") for s in ("approved", "rejected")]
    unlisted = [gen_project(creator, s, title=f"{s} lamp") for s in ("cancelled", "suspended")]
    clock.jump_past(failing.deadline)
    settle(runner, "--project", str(failing.id))
    failing = db.session.get(type(failing), failing.id)
    assert failing.status is ProjectStatus.FAILED

    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    xml = response.get_data(as_text=True)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    locs = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert locs == [
        f"{BASE}/",
        f"{BASE}/discover",
        f"{BASE}/projects/{live.id}-live-lamp",
        f"{BASE}/projects/{failing.id}-failed-lamp",
        f"{BASE}/projects/{funded.id}-funded-lamp",
        f"{BASE}/projects/{paid.id}-paid-lamp",
    ]
    for project in (*private, *unlisted):
        assert f"/projects/{project.id}" not in xml
    lastmod = re.search(rf"{failing.id}-failed-lamp</loc><lastmod>([^<]+)<", xml).group(1)
    assert lastmod == failing.settled_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert lastmod > live.launched_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_sitemap_escapes_what_it_lists(app, client, creator):
    app.config["BASE_URL"] = "https://example.com/crowd&fund"
    project = gen_project(creator, "live", title="Tea & biscuits")
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    loc = f"https://example.com/crowd&amp;fund/projects/{project.id}-tea-biscuits"
    assert f"<loc>{loc}</loc>" in xml


def test_robots_txt_keeps_private_pages_out_and_points_at_the_sitemap(client, lamp):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.removeprefix("Disallow: ") for line in lines if line.startswith("Disallow")}
    for private in ("/my/", "/pledges/", "/moderation/", "/payouts/", "/admin/", "/login"):
        assert private in disallowed
    for checkout in ("/projects/*/back", "/projects/*/edit", "/projects/*/statement"):
        assert checkout in disallowed
    for public in ("/", "/discover", "/projects/", "/uploads/"):
        assert public not in disallowed
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


# ---- share links and the QR code ----------------------------------------------------------------


def test_the_share_box_links_to_the_readable_url(client, lamp):
    page = client.get(project_path(lamp)).get_data(as_text=True)
    found = head_of(page).by_testid
    url = f"{BASE}/projects/{lamp.id}-copperleaf-a-desk-lamp"
    assert "Share this project" in page
    assert found["share-url"]["value"] == url and "readonly" in found["share-url"]

    mail = urlsplit(found["share-email"]["href"])
    assert mail.scheme == "mailto"
    query = parse_qs(mail.query)
    assert query["subject"] == ["Copperleaf: a desk lamp!"]
    assert query["body"] == [f"A lamp of folded copper leaves.\n\n{url}"]
    assert "%3A%2F%2F" in mail.query  # the URL is encoded, not pasted raw

    weibo = urlsplit(found["share-weibo"]["href"])
    assert (weibo.netloc, weibo.path) == ("service.weibo.com", "/share/share.php")
    assert parse_qs(weibo.query) == {"url": [url], "title": ["Copperleaf: a desk lamp!"]}
    x = urlsplit(found["share-x"]["href"])
    assert (x.netloc, x.path) == ("twitter.com", "/intent/tweet")
    assert parse_qs(x.query) == {"url": [url], "text": ["Copperleaf: a desk lamp!"]}
    for link in ("share-weibo", "share-x"):
        assert found[link]["rel"] == "noopener noreferrer"

    # No third party's scripts or images: every script and image is the site's own.
    sources = re.findall(r'<(?:script|img)[^>]* src="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources), sources


def test_the_share_box_speaks_chinese(client, lamp):
    page = client.get(project_path(lamp), headers=ZH).get_data(as_text=True)
    chinese = ("分享这个项目", "复制链接", "链接已复制", "微博", "微信扫码分享", "本页链接的二维码")
    for text in chinese:
        assert text in page, text
    assert "Share this project" not in page and "Copy link" not in page


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of segno's SVG path, read back ("M4 4.5h7m1 0h3..." at scale 4)."""
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for op, args in re.findall(r"([MmHh])([-\d. ]+)", path.replace("m", " m").replace("h", " h")):
        numbers = [float(n) for n in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(numbers[0])))
            x += numbers[0]
    return dark


def test_the_qr_code_is_the_readable_url(client, lamp):
    page = head_of(client.get(project_path(lamp)).get_data(as_text=True))
    img = page.by_testid["share-qr"]
    assert img["src"] == f"/projects/{lamp.id}/qr.svg"
    assert img["alt"] == "QR code of the link to this page"
    response = client.get(img["src"])
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    url = f"{BASE}/projects/{lamp.id}-copperleaf-a-desk-lamp"
    assert f"<title>{url}</title>" in svg
    assert "<script" not in svg and "style=" not in svg
    expected = segno.make(url, error="m")
    border = 4
    wanted = {
        (col + border, row + border)
        for row, line in enumerate(expected.matrix)
        for col, bit in enumerate(line)
        if bit
    }
    assert qr_modules(svg) == wanted  # module for module, the code of that URL
    other = segno.make(f"{BASE}/projects/{lamp.id}", error="m")
    assert expected.matrix != other.matrix  # (so the comparison can tell links apart)


def test_an_ended_project_can_still_be_shared(client, creator):
    project = gen_project(creator, "cancelled", title="Kettle")
    page = client.get(project_path(project)).get_data(as_text=True)
    assert "Share this project" in page
    assert client.get(f"/projects/{project.id}/qr.svg").status_code == 200


def test_the_qr_code_of_an_unknown_project_is_not_found(client):
    assert client.get("/projects/424242/qr.svg").status_code == 404
