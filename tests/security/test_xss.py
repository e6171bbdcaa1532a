"""Stored XSS: every payload of xss_payloads.txt in every user-written field, on every page.

The fields: display names, project title, blurb and story, tier title and description, the
reasons in the audit log (request changes, approve, reject, suspend, cancel), which the
creator sees on "My projects" and moderators in the review page, the FAQ's questions and
answers, private questions and their answers, a live project's revisions (the diffs backers
and moderators read), reports' details, comments and replies (shown, hidden with a reason,
reported), updates' titles, bodies and removal reasons, stretch goals' titles and
descriptions. The pages: home, discover
(and a search for the payload), project pages in every state, my projects, the edit pages,
the moderation queue and review, the pledge form, change, pay, receipt and cancel pages, the
statement, error pages and the targets of redirects.

A world with a project in every state is built once per chunk of payloads; then, for each
payload, set-based UPDATEs write it into every user-written column of every row (so a chunk
of payloads shares one world), and every page is rendered
and parsed with an HTML parser:

* nothing that can run script: no tag outside what the site itself writes, no ``on*``
  handler, no ``style`` attribute, no javascript:/data:/vbscript: URL, scripts only from
  the site's /static/ or Stripe.js, forms posting only to the site, no comment or CDATA;
* the text is shown, escaped: the title is in the page's text exactly as written;
* Jinja lookalikes are text, not evaluated ("{{7*7}}" shows, "49" does not);
* every response, redirects and error pages included, carries the Content-Security-Policy:
  no 'unsafe-inline' or 'unsafe-eval', scripts from 'self' and the Stripe.js origin only.

A few payloads also go through the real forms (register, project, tier, moderation
decisions, cancel), and payloads holding a NUL character are refused by every form (400).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, select, update

from app.accounts.models import Role, User
from app.comments import services as comments
from app.comments.models import Comment, HiddenBy
from app.extensions import db
from app.follows import services as follows
from app.pledges import checkout
from app.pledges import services as pledge_services
from app.pledges.models import Pledge
from app.projects import services as projects
from app.projects.domain import ProjectStatus
from app.projects.models import Project, ProjectEvent, ProjectRevision
from app.projects.slugs import slug_of
from app.questions import services as questions
from app.questions.models import FaqEntry, Question
from app.reports import services as reports
from app.reports.models import Report, ReportReason
from app.rewards.models import RewardTier
from app.stretch import services as stretch
from app.stretch.models import StretchGoal
from app.text import render_markdown
from app.updates import services as updates
from app.updates.models import Update
from tests.helpers import PASSWORD, Browser, dangerous_markup, gen_project, gen_user, parse_forms
from tests.helpers.notifications import mailed_link
from tests.helpers.pledging import pay_through_pages
from tests.helpers.xss import PAYLOADS, storable

CHUNK = 8
CHUNKS = [PAYLOADS[i : i + CHUNK] for i in range(0, len(PAYLOADS), CHUNK)]
NUL_PAYLOADS = [p for p in PAYLOADS if "\x00" in p]


def test_the_corpus_is_large_and_fits_every_field():
    assert len(PAYLOADS) >= 30
    assert len(set(PAYLOADS)) == len(PAYLOADS), "a payload is listed twice"
    assert max(len(p) for p in PAYLOADS) <= 80  # the shortest field (titles, display names)
    assert NUL_PAYLOADS and any("\n" in p for p in PAYLOADS)


# ---- reading a page -------------------------------------------------------------------------

# Every tag the site's templates and the Markdown allow-list write; any other is injected.
SITE_TAGS = {
    *("html", "head", "meta", "title", "link", "body", "nav", "main", "footer", "section"),
    *("div", "span", "p", "a", "button", "ul", "ol", "li", "dl", "dt", "dd", "hr", "br"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "small", "code", "pre", "blockquote"),
    *("table", "thead", "tbody", "tr", "th", "td", "form", "fieldset", "legend", "label"),
    *("input", "select", "option", "textarea", "img", "progress", "time", "script"),
    *("details", "summary", "article", "figure", "figcaption", "ins", "del"),
}
URL_ATTRIBUTES = {
    *("href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"),
    *("srcset", "cite", "ping", "codebase", "dynsrc", "lowsrc", "longdesc", "manifest"),
}
SAFE_SCHEMES = {"", "http", "https", "mailto"}
# Characters browsers drop or ignore inside a URL's scheme: whitespace, controls, invisibles.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def scheme_of(url: str) -> str:
    cleaned = _IGNORED_IN_SCHEME.sub("", url).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", cleaned)
    return match.group(1) if match else ""


class PageAudit(HTMLParser):
    """Everything on a page that could run script, and the page's visible text."""

    def __init__(self, script_sources: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.script_sources = script_sources
        self.problems: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self._data_block: str | None = None  # the JSON-LD being read, if any

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        self._in_script = tag == "script"
        if self._in_script and dict(attrs).get("type") == "application/ld+json":
            self._data_block = ""  # a data block the browser never runs, if it is JSON

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
            if self._data_block is not None:
                try:
                    json.loads(self._data_block)
                except ValueError:
                    self.problems.append(f"JSON-LD that is not JSON {self._data_block[:40]!r}")
                self._data_block = None

    def handle_data(self, data):
        if self._data_block is not None:
            self._data_block += data
            return
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data[:40]!r}")
        self.text.append(data)

    def handle_comment(self, data):
        self.problems.append(f"comment <!--{data[:40]}-->")  # the site writes none

    def unknown_decl(self, data):
        self.problems.append(f"declaration <![{data[:40]}]>")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction <?{data[:40]}>")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"<{tag}>"
        if tag not in SITE_TAGS:
            self.problems.append(f"injected tag {where}")
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {where} {name}={value[:30]!r}")
            elif name in ("style", "srcdoc", "http-equiv"):
                self.problems.append(f"attribute {where} {name}={value[:30]!r}")
            if name in URL_ATTRIBUTES and scheme_of(value) not in SAFE_SCHEMES:
                self.problems.append(f"URL {where} {name}={value[:40]!r}")
        data_block = values.get("type") == "application/ld+json" and "src" not in values
        if (
            tag == "script"
            and not data_block
            and not values.get("src", "").startswith(self.script_sources)
        ):
            self.problems.append(f"script from {values.get('src', '(inline)')!r}")
        for name in ("action", "formaction"):  # a form (or a button of it) posts to the site
            action = values.get(name, "") if tag in ("form", "button", "input") else ""
            if action and (not action.startswith("/") or action.startswith("//")):
                self.problems.append(f"{where} posting to {action[:40]!r}")
        if tag == "meta" and set(values) - {"charset", "name", "property", "content"}:
            self.problems.append(f"meta {values}")
        if tag == "link" and values.get("rel") not in ("stylesheet", "icon", "canonical"):
            self.problems.append(f"link {values}")


def script_sources(app) -> tuple[str, ...]:
    """Where the site's scripts come from: its own static files and Stripe.js."""
    return ("/static/", "/bootstrap/static/", app.config["STRIPE_JS_URL"])


def audit(html: str, sources: tuple[str, ...]) -> tuple[list[str], str]:
    parser = PageAudit(sources)
    parser.feed(html)
    parser.close()
    return parser.problems, "".join(parser.text)


# "49" as a number of its own; a time such as 18:49 is not what {{7*7}} would make.
FORTY_NINE = re.compile(r"(?<![\d:.,])49(?![\d])")


def evaluated_template(payload: str, html: str, text: str) -> list[str]:
    """Signs that the payload was evaluated as a template instead of shown as text."""
    found = []
    if "7*7" in payload and FORTY_NINE.search(text):
        found.append("49 where 7*7 was written")
    if "{% for" in payload and "XXX" in text:
        found.append("a {% for %} loop ran")
    if "config" in payload and ("test-secret-key" in html or "SECRET_KEY" in html):
        found.append("the configuration leaked")
    if "__class__" in payload and "<class '" in text:
        found.append("Python objects leaked")
    return found


# ---- the Content-Security-Policy ------------------------------------------------------------


def csp_problems(response, stripe_origin: str, form_action_extra: bool = False) -> list[str]:
    header = response.headers.get("Content-Security-Policy", "")
    if not header:
        return ["no Content-Security-Policy header"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    problems = [
        f"{word} in the policy"
        for word in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'strict-dynamic'")
        if word in header
    ]
    expected = {
        "default-src": ["'self'"],
        "script-src": ["'self'", stripe_origin],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    for name, sources in expected.items():
        if sorted(directives.get(name, [])) != sorted(sources):
            problems.append(f"{name} is {directives.get(name)}, expected {sources}")
    form_action = directives.get("form-action", [])
    if "'self'" not in form_action or (len(form_action) > 1 and not form_action_extra):
        problems.append(f"form-action is {form_action}")
    return problems


@pytest.fixture
def csp_checked(app):
    """Every response of the clients made after this runs is checked for the policy.

    Redirects followed by the client come through ``open`` too, so their targets are
    checked as well as the redirects themselves. The payout page adds Stripe's onboarding
    origin to form-action (its form redirects there); nothing else may.
    """
    parts = urlsplit(app.config["STRIPE_JS_URL"])
    origin = f"{parts.scheme}://{parts.netloc}"
    checked: list[str] = []

    class CSPCheckedClient(app.test_client_class):
        def open(self, *args, **kwargs):
            response = super().open(*args, **kwargs)
            path = response.request.path
            problems = csp_problems(response, origin, form_action_extra=path.startswith("/payouts"))
            assert not problems, f"{response.request.method} {path}: {problems}"
            checked.append(f"{response.status_code} {path}")
            return response

    app.test_client_class = CSPCheckedClient
    return checked


# ---- a world with a project in every state ------------------------------------------------


@dataclass
class World:
    ids: dict[str, int]
    clients: dict
    pages: list[tuple[str, str, int]] = field(default_factory=list)  # (visitor, url, status)


def login(app, email: str):
    client = app.test_client()
    assert Browser(client).login(email).status_code == 302
    return client


def build_world(app, stripe_fake) -> World:
    creator = gen_user("creator@example.com", "Cora")
    backer = gen_user("backer@example.com", "Bea")
    moderator = gen_user("mod@example.com", "Mo", role=Role.MODERATOR)
    made = {}
    for name in ("draft", "submitted", "approved", "rejected"):
        made[name] = gen_project(creator, "submitted", title=name)
    projects.request_changes(made["draft"], moderator, "changes")
    projects.approve(made["approved"], moderator, "note")
    projects.reject(made["rejected"], moderator, "no")
    for name in ("live", "back", "held", "suspended", "cancelled", "failed"):
        made[name] = gen_project(creator, "live", title=name)
    db.session.commit()
    ids = {name: p.id for name, p in made.items()}
    ids["tier"] = made["live"].tiers[0].id
    ids["creator"] = creator.id

    clients = {
        "anonymous": app.test_client(),
        "creator": login(app, "creator@example.com"),
        "backer": login(app, "backer@example.com"),
        "moderator": login(app, "mod@example.com"),
    }
    # The backer: a pending pledge (pay page), a held one (change page), one on a project
    # that is then suspended (its statement lists the backer).
    for name in ("live", "suspended"):
        tier_id = db.session.get(Project, ids[name]).tiers[0].id
        started = checkout.begin_pledge(
            backer.id, ids[name], pledge_services.Terms(tier_id=tier_id, amount=2500)
        )
        ids[f"{name}_pledge"] = started.pledge_id
    pledge, _ = pay_through_pages(Browser(clients["backer"]), stripe_fake, made["held"])
    ids["held_pledge"] = pledge.id
    pending = db.session.get(Pledge, ids["live_pledge"])
    pledge_services.flag_dispute(pending.payments[0])  # listed for moderators
    projects.suspend(db.session.get(Project, ids["suspended"]), moderator, "rules")
    projects.cancel(db.session.get(Project, ids["cancelled"]), creator, "mind")
    db.session.execute(
        update(Project).where(Project.id == ids["failed"]).values(status=ProjectStatus.FAILED)
    )
    # The words people write around a live project: its FAQ, a question the backer asked
    # (answered), a change to its story, a report and the saved project.
    live = db.session.get(Project, ids["live"])
    questions.add_entry(live, "faq question", "faq answer")
    asked = questions.ask(live, backer.id, "asked")
    questions.answer(asked, "answered")
    projects.update_project(live, {"story": live.story.strip() + " more"}, creator.id)
    reports.report_project(live, backer, ReportReason.SPAM, "details")
    follows.follow(live, backer.id)
    # Comments: a moderator's (staff may post; with the creator's reply), one the creator
    # hid with a reason (moderators read both), and the creator's report of the first.
    said = comments.post(live, moderator, "comment")
    comments.post(live, creator, "reply", parent_id=said.id)
    hidden = comments.post(live, moderator, "hidden")
    comments.hide(hidden, creator, HiddenBy.CREATOR, "reason")
    reports.report_comment(said, creator, ReportReason.SPAM, "details")
    ids["comment"] = said.id
    # Updates: a public one and a removed one on the live project, a backers-only one on the
    # project the backer's pledge is held on.
    news = updates.publish(live, creator.id, "update title", "update body", True)
    reports.report_update(news, backer, ReportReason.SPAM, "details")  # the queue shows it
    removed = updates.publish(live, creator.id, "removed title", "removed body", True)
    updates.remove(removed, creator.id, "removal reason")
    updates.publish(db.session.get(Project, ids["held"]), creator.id, "secret", "body", False)
    # A stretch goal on the live project: its ladder, the edit page's list, its own form.
    goal = stretch.add_goal(live, {"amount": 500_000, "title": "goal", "description": "gold"})
    ids["stretch_goal"] = goal.id
    db.session.commit()
    world = World(ids=ids, clients=clients)
    world.pages = pages_of(ids)
    return world


def pages_of(i: dict[str, int]) -> list[tuple[str, str, int]]:
    """Every page a user-written field appears on, with who looks and the expected status."""
    p = "/projects/"
    # A project's plain URL (301) sends the visitor on to its readable one, the page checked.
    return [
        ("anonymous", "/", 200),
        ("anonymous", "/discover", 200),
        ("anonymous", f"{p}{i['live']}", 301),
        ("anonymous", f"{p}{i['suspended']}", 301),
        ("anonymous", f"{p}{i['cancelled']}", 301),
        ("anonymous", f"{p}{i['failed']}", 301),
        ("anonymous", "/my/projects", 302),  # to the log in page
        ("creator", "/my/projects", 200),
        ("creator", f"{p}{i['draft']}", 301),
        ("creator", f"{p}{i['approved']}", 301),
        ("creator", f"{p}{i['rejected']}", 301),
        ("creator", f"{p}{i['draft']}/edit", 200),
        ("creator", f"{p}{i['live']}/edit", 200),
        ("creator", f"{p}{i['cancelled']}/edit", 302),  # not editable: back to my projects
        ("creator", f"/tiers/{i['tier']}/edit", 200),
        ("creator", f"{p}{i['live']}/tiers/new", 200),
        ("creator", f"/stretch-goals/{i['stretch_goal']}/edit", 200),
        ("creator", f"{p}{i['live']}/cancel", 200),
        ("creator", f"{p}{i['suspended']}/statement", 200),
        ("creator", f"{p}{i['cancelled']}/statement", 200),
        ("creator", "/payouts/account", 200),
        ("creator", f"{p}{i['live']}/statement", 404),  # "no statement yet", with the title bar
        ("creator", f"{p}999999", 404),
        ("creator", "/moderation/", 403),
        ("creator", "/logout", 405),
        ("backer", f"{p}{i['back']}/back", 200),
        ("backer", f"{p}{i['live']}/back", 302),  # an open pledge: to its receipt
        ("backer", f"/pledges/{i['live_pledge']}/pay", 200),
        ("backer", f"/pledges/{i['live_pledge']}", 200),
        ("backer", f"/pledges/{i['live_pledge']}/cancel", 200),
        ("backer", f"/pledges/{i['held_pledge']}/change", 200),
        ("backer", f"/pledges/{i['suspended_pledge']}", 200),
        ("backer", "/my/pledges", 200),
        ("moderator", "/moderation/", 200),
        *[
            ("moderator", f"/moderation/projects/{i[name]}", 200)
            for name in (
                "draft",
                "submitted",
                "approved",
                "rejected",
                "live",
                "suspended",
                "cancelled",
            )
        ],
        ("moderator", f"{p}{i['suspended']}/statement", 200),
        ("backer", f"{p}{i['live']}", 301),  # the FAQ, and the backer's own question
        ("creator", f"{p}{i['live']}/faq", 200),
        ("anonymous", f"{p}{i['live']}/changes", 200),
        ("backer", f"{p}{i['live']}/report", 200),
        ("moderator", "/moderation/reports", 200),
        ("backer", "/my/saved", 200),
        ("anonymous", f"{p}{i['live']}/comments", 200),
        ("moderator", f"{p}{i['live']}/comments", 200),  # hidden words and the reason
        ("moderator", f"/comments/{i['comment']}/edit", 200),
        ("creator", f"/comments/{i['comment']}/hide", 200),
        ("creator", f"/comments/{i['comment']}/report", 200),
        ("anonymous", f"{p}{i['live']}/updates", 200),
        ("anonymous", f"{p}{i['live']}/updates/1", 200),
        ("anonymous", f"{p}{i['live']}/updates/2", 200),  # removed: the page says so
        ("moderator", f"{p}{i['live']}/updates/2", 200),  # and moderators read why
        ("creator", f"{p}{i['live']}/updates/1/edit", 200),
        ("creator", f"{p}{i['live']}/updates/1/remove", 200),
        ("backer", f"{p}{i['held']}/updates/1", 200),  # backers-only, read in full
        ("anonymous", f"{p}{i['held']}/updates/1", 200),  # its teaser
        ("creator", "/settings/profile", 200),
        ("creator", "/settings/notifications", 200),
        ("creator", "/settings/account", 200),  # its live projects keep the account: listed
        ("backer", "/settings/account", 200),  # the held pledge keeps the account: listed
    ]


def profile_url(creator_id: int, name: str) -> str:
    """The creator's public profile at its readable URL for the name ``name``."""
    slug = slug_of(name)
    return f"/people/{creator_id}-{slug}" if slug else f"/people/{creator_id}"


def write_everywhere(text: str) -> None:
    """The payload in every user-written column of every row, at once."""
    db.session.execute(
        update(User).values(display_name=text, bio=text, location=text, website=text)
    )
    db.session.execute(update(Project).values(title=text, blurb=text, story=text))
    db.session.execute(update(RewardTier).values(title=text, description=text))
    db.session.execute(update(ProjectEvent).values(reason=text))
    db.session.execute(update(FaqEntry).values(question=text[:300], answer=text))
    db.session.execute(update(Question).values(body=text, answer=text))
    db.session.execute(update(ProjectRevision).values(old_value=text, new_value=text + "\n+"))
    db.session.execute(update(Report).values(details=text))
    db.session.execute(update(Comment).values(body=text, hidden_reason=text[:500]))
    db.session.execute(update(Update).values(title=text[:120], body=text, delete_reason=text))
    db.session.execute(update(StretchGoal).values(title=text, description=text))
    db.session.commit()


def check_page(world: World, visitor: str, url: str, status: int, payload: str, sources):
    """The problems found on one page (empty when it is safe)."""
    client = world.clients[visitor]
    response = client.get(url, follow_redirects=True)
    hops = [r.status_code for r in response.history] + [response.status_code]
    if hops[0] != status:
        return [f"answered {hops}, expected {status} first"]
    html = response.get_data(as_text=True)
    problems, text = audit(html, sources)
    problems += [f"dangerous markup {d}" for d in dangerous_markup(html)]
    problems += evaluated_template(payload, html, text)
    # Every page but the log in page shows the text (the visitor's name at least), escaped:
    # not dropped, not double-escaped.
    if response.request.path != "/login" and storable(payload) not in text:
        problems.append("the text is not shown as written")
    return problems


@pytest.fixture
def xss_world(app, stripe_fake, csp_checked):
    app.config["PROJECTS_PER_PAGE"] = 50
    return build_world(app, stripe_fake)


@pytest.mark.parametrize(
    "chunk",
    CHUNKS,
    ids=[f"payloads-{i * CHUNK + 1}-{i * CHUNK + len(c)}" for i, c in enumerate(CHUNKS)],
)
def test_every_payload_in_every_field_renders_harmlessly(app, xss_world, csp_checked, chunk):
    sources = script_sources(app)
    failures = []
    for payload in chunk:
        write_everywhere(storable(payload))
        pages = [
            *xss_world.pages,
            ("anonymous", f"/discover?q={quote(storable(payload)[:100])}", 200),
            ("anonymous", profile_url(xss_world.ids["creator"], storable(payload)), 200),
        ]
        for visitor, url, status in pages:
            for problem in check_page(xss_world, visitor, url, status, payload, sources):
                failures.append(f"{payload!r} {visitor} {url}: {problem}")
    assert not failures, "\n".join(failures[:40])
    assert len(csp_checked) >= len(chunk) * len(xss_world.pages)


def test_the_world_shows_every_field(app, xss_world):
    """The pages above really show each field: a distinct marker per column is found."""
    marks = {
        "display name": "mark-name",
        "title": "mark-title",
        "blurb": "mark-blurb",
        "story": "mark-story",
        "tier title": "mark-tier",
        "tier description": "mark-desc",
        "reason": "mark-reason",
    }
    db.session.execute(
        update(User).values(
            display_name=marks["display name"], bio="mark-bio", location="mark-location"
        )
    )
    db.session.execute(
        update(Project).values(title=marks["title"], blurb=marks["blurb"], story=marks["story"])
    )
    db.session.execute(
        update(RewardTier).values(title=marks["tier title"], description=marks["tier description"])
    )
    db.session.execute(update(ProjectEvent).values(reason=marks["reason"]))
    db.session.execute(update(FaqEntry).values(question="mark-faq-q", answer="mark-faq-a"))
    db.session.execute(update(Question).values(body="mark-ask", answer="mark-answer"))
    db.session.execute(update(ProjectRevision).values(old_value="mark-old", new_value="mark-new"))
    db.session.execute(update(Report).values(details="mark-report"))
    db.session.execute(update(Comment).values(body="mark-comment", hidden_reason="mark-hidden"))
    db.session.execute(
        update(Update).values(title="mark-up-title", body="mark-up-body", delete_reason="mark-why")
    )
    db.session.execute(
        update(StretchGoal).values(title="mark-sg-title", description="mark-sg-desc")
    )
    db.session.commit()
    marks |= {m: m for m in ("mark-sg-title", "mark-sg-desc")}
    marks |= {m: m for m in ("mark-up-title", "mark-up-body", "mark-why")}
    marks |= {m: m for m in ("mark-faq-q", "mark-faq-a", "mark-ask", "mark-answer")}
    marks |= {m: m for m in ("mark-old", "mark-new", "mark-report", "mark-bio", "mark-location")}
    marks |= {m: m for m in ("mark-comment", "mark-hidden")}
    seen: dict[str, set[str]] = {mark: set() for mark in marks.values()}
    profile = profile_url(xss_world.ids["creator"], marks["display name"])
    for visitor, url, _status in [*xss_world.pages, ("anonymous", profile, 200)]:
        page = xss_world.clients[visitor].get(url, follow_redirects=True).get_data(as_text=True)
        for mark in marks.values():
            if mark in page:
                seen[mark].add(url.split("?")[0])
    i = xss_world.ids
    expect = {
        "mark-reason": {"/my/projects", f"/moderation/projects/{i['suspended']}"},
        "mark-story": {f"/projects/{i['live']}", f"/moderation/projects/{i['submitted']}"},
        "mark-desc": {f"/projects/{i['live']}", f"/projects/{i['back']}/back"},
        "mark-blurb": {"/", "/discover", f"/projects/{i['live']}"},
        "mark-tier": {f"/pledges/{i['live_pledge']}/pay", f"/projects/{i['suspended']}/statement"},
        "mark-name": {"/moderation/", f"/projects/{i['live']}", "/my/pledges"},
        "mark-title": {
            "/",
            f"/pledges/{i['live_pledge']}",
            f"/projects/{i['live']}/edit",
            "/settings/account",  # the pledge and projects that keep the account
        },
        "mark-faq-q": {f"/projects/{i['live']}", f"/projects/{i['live']}/faq"},
        "mark-faq-a": {f"/projects/{i['live']}", f"/projects/{i['live']}/faq"},
        "mark-ask": {f"/projects/{i['live']}", f"/projects/{i['live']}/faq"},
        "mark-answer": {f"/projects/{i['live']}", f"/projects/{i['live']}/faq"},
        "mark-old": {f"/projects/{i['live']}/changes", f"/moderation/projects/{i['live']}"},
        "mark-new": {f"/projects/{i['live']}/changes", f"/moderation/projects/{i['live']}"},
        "mark-report": {"/moderation/reports"},
        "mark-comment": {
            f"/projects/{i['live']}",
            f"/projects/{i['live']}/comments",
            f"/comments/{i['comment']}/edit",
            f"/comments/{i['comment']}/hide",
            f"/comments/{i['comment']}/report",
            "/moderation/reports",
        },
        "mark-hidden": {f"/projects/{i['live']}/comments"},  # for the moderator only
        "mark-up-title": {f"/projects/{i['live']}", f"/projects/{i['live']}/updates"},
        "mark-up-body": {
            f"/projects/{i['live']}/updates/1",
            f"/projects/{i['held']}/updates/1",
            "/moderation/reports",
        },
        "mark-why": {f"/projects/{i['live']}/updates/2"},
        "mark-sg-title": {
            f"/projects/{i['live']}",
            f"/projects/{i['live']}/edit",
            f"/stretch-goals/{i['stretch_goal']}/edit",
        },
        "mark-sg-desc": {f"/projects/{i['live']}", f"/stretch-goals/{i['stretch_goal']}/edit"},
        "mark-bio": {profile},
        "mark-location": {profile},
    }
    for mark, urls in expect.items():
        assert urls <= seen[mark], (mark, urls - seen[mark])


# ---- Markdown alone, in every context a payload can sit in --------------------------------

CONTEXTS = [
    "{}",
    "# {}",
    "> {}",
    "- {}",
    "1. {}",
    "`{}`",
    "**{}**",
    "[{}](https://example.com)",
    "[x](https://example.com '{}')",
    "| a |\n|---|\n| {} |",
    "x\n\n{}\n\nx",
]


@pytest.mark.parametrize("context", CONTEXTS)
def test_markdown_is_sanitised_in_every_context(context):
    for payload in PAYLOADS:
        html = str(render_markdown(context.format(payload)))
        problems, _text = audit(html, ())
        assert not problems and not dangerous_markup(html), (payload, html, problems)


# ---- through the real forms -----------------------------------------------------------------

FORM_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "[click](javascript:alert(1))",
    "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>",
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",  # fullwidth < and >
]


def register(app, email: str, name: str):
    """A new account through the sign-up form and its mailed link; its client, logged in."""
    client = app.test_client()
    browser = Browser(client)
    fields = {"email": email, "display_name": name, "password": PASSWORD, "confirm": PASSWORD}
    assert browser.submit("/register", fields).status_code == 302  # to "check your inbox"
    link = mailed_link(email, "verify_email", "/verify/")
    assert browser.submit(link, {}).status_code == 302  # proves the address and logs in
    page = client.get("/").get_data(as_text=True)
    problems, text = audit(page, script_sources(app))
    assert not problems and not dangerous_markup(page)
    assert name in text  # the navigation's name, escaped
    return client


@pytest.mark.parametrize("payload", FORM_PAYLOADS)
def test_payloads_through_the_real_forms(app, stripe_fake, csp_checked, payload):
    sources = script_sources(app)
    creator = Browser(register(app, "creator@example.com", payload))
    backer = Browser(register(app, "backer@example.com", payload))
    moderator = Browser(register(app, "mod@example.com", payload))
    db.session.execute(
        update(User).where(User.email == "mod@example.com").values(role=Role.MODERATOR)
    )
    db.session.commit()

    def new_project() -> int:
        story = payload + "\n\n" + "A story long enough for review. " * 4
        response = creator.submit(
            "/projects/new",
            {
                "title": payload,
                "blurb": payload,
                "story": story,
                "category_id": "4",
                "currency": "USD",
                "goal": "1000",
                "duration_days": "30",
                "creator_timezone": "UTC",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
        project = db.session.scalars(select(Project).order_by(Project.id.desc())).first()
        project.cover_image = "0" * 32 + ".png"
        db.session.commit()
        response = creator.submit(
            f"/projects/{project.id}/tiers/new",
            {
                "title": payload,
                "description": payload,
                "minimum": "10",
                "estimated_delivery": "2030-01",
            },
        )
        assert response.status_code == 302
        response = creator.submit(
            f"/projects/{project.id}/edit", action=f"/projects/{project.id}/submit"
        )
        assert response.status_code == 302
        return project.id

    def decide(project_id: int, decision: str, prefix: str) -> None:
        response = moderator.submit(
            f"/moderation/projects/{project_id}",
            {f"{prefix}-reason": payload},
            action=f"/moderation/projects/{project_id}/{decision}",
        )
        assert response.status_code == 302

    first, second, third = new_project(), new_project(), new_project()
    decide(first, "request-changes", "changes")
    creator.submit(f"/projects/{first}/edit", action=f"/projects/{first}/submit")
    decide(first, "approve", "approve")
    decide(second, "approve", "approve")
    decide(third, "reject", "reject")
    for project_id in (first, second):
        creator.submit(f"/projects/{project_id}", action=f"/projects/{project_id}/launch")
    pledge, _ = pay_through_pages(backer, stripe_fake, db.session.get(Project, first))
    decide(first, "suspend", "suspend")
    response = creator.submit(f"/projects/{second}/cancel", {"reason": payload})
    assert response.status_code == 302

    response = creator.submit(
        "/settings/profile",
        {
            "display_name": payload,
            "bio": payload,
            "location": payload,
            "website": "https://example.org/?q=" + quote(payload),
            "locale": "en",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    response = creator.submit("/settings/profile", {"website": payload})
    assert response.status_code == 200  # refused: not a web address
    creator_row = db.session.scalar(select(User).where(User.email == "creator@example.com"))
    assert (creator_row.bio, creator_row.location) == (payload, payload)

    stored = db.session.get(Project, first)
    assert (stored.title, stored.blurb, stored.tiers[0].title) == (payload,) * 3
    assert stored.status is ProjectStatus.SUSPENDED
    reasons = [e.reason for e in stored.events if e.reason]
    assert reasons == [payload, payload, payload]  # changes, approve, suspend
    assert db.session.scalar(select(func.count()).select_from(ProjectEvent)) >= 12

    pages = [
        (creator, "/my/projects"),
        (creator, f"/projects/{first}"),
        (creator, f"/projects/{first}/statement"),
        (creator, f"/projects/{second}/statement"),
        (moderator, f"/moderation/projects/{first}"),
        (moderator, f"/moderation/projects/{second}"),
        (moderator, f"/moderation/projects/{third}"),
        (backer, f"/pledges/{pledge.id}"),
        (backer, "/my/pledges"),
        (backer, "/discover"),
        (backer, f"/people/{creator_row.id}"),
        (creator, "/settings/profile"),
    ]
    for browser, url in pages:
        response = browser.client.get(url, follow_redirects=True)  # to a project's readable URL
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        problems, text = audit(html, sources)
        assert not problems and not dangerous_markup(html), (url, problems)
        assert not evaluated_template(payload, html, text), url
        assert payload in text, url


# ---- NUL characters: refused by every form --------------------------------------------------


def table_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table."""
    db.session.rollback()
    return {
        t.name: sorted(tuple(map(str, row)) for row in db.session.execute(select(t)))
        for t in db.metadata.sorted_tables
    }


def test_payloads_with_nul_are_refused_by_every_form(app, stripe_fake, csp_checked):
    creator = gen_user("creator@example.com", "Cora")
    gen_user("mod@example.com", "Mo", role=Role.MODERATOR)
    draft = gen_project(creator, "draft")
    submitted = gen_project(creator, "submitted", title="Queued")
    live = gen_project(creator, "live", title="Live")
    ids = (draft.id, submitted.id, live.id, live.tiers[0].id)
    gen_user("backer@example.com", "Bea")
    anonymous = app.test_client()
    clients = {
        "anonymous": anonymous,
        "creator": login(app, "creator@example.com"),
        "moderator": login(app, "mod@example.com"),
        "backer": login(app, "backer@example.com"),
    }
    d, s, lv, tier = ids
    forms = [
        ("anonymous", "/register", "/register", "display_name"),
        ("anonymous", "/login", "/login", "email"),
        ("creator", "/projects/new", "/projects/new", "title"),
        ("creator", f"/projects/{d}/edit", f"/projects/{d}/edit", "story"),
        ("creator", f"/projects/{lv}/tiers/new", f"/projects/{lv}/tiers/new", "description"),
        ("creator", f"/tiers/{tier}/edit", f"/tiers/{tier}/edit", "title"),
        ("creator", f"/projects/{lv}/cancel", f"/projects/{lv}/cancel", "reason"),
        (
            "moderator",
            f"/moderation/projects/{s}",
            f"/moderation/projects/{s}/reject",
            "reject-reason",
        ),
        (
            "moderator",
            f"/moderation/projects/{lv}",
            f"/moderation/projects/{lv}/suspend",
            "suspend-reason",
        ),
        ("backer", f"/projects/{lv}/back", f"/projects/{lv}/back", "amount"),
        ("backer", "/settings/profile", "/settings/profile", "bio"),
        ("backer", "/settings/profile", "/settings/profile", "location"),
    ]
    before = table_snapshot()
    for visitor, page, action, name in forms:
        form = next(
            f
            for f in parse_forms(clients[visitor].get(page).get_data(as_text=True))
            if f["method"] == "post" and (f["action"] or page) == action
        )
        for payload in NUL_PAYLOADS:
            data = {**form["fields"], name: payload}
            response = clients[visitor].post(action, data=data)
            assert response.status_code == 400, (action, payload, response.status_code)
            assert "NUL character" in response.get_data(as_text=True)
    assert clients["anonymous"].get("/discover?q=a%00b").status_code == 400
    assert table_snapshot() == before
    assert stripe_fake.requests("/v1/payment_intents", "POST") == []


# ---- error pages and the policy -------------------------------------------------------------


def test_error_pages_carry_the_policy_too(app, csp_checked):
    """404, 405, 400, 413 and 500 pages, in HTML and JSON, and redirects to log in."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/__boom")
    def boom():
        raise RuntimeError("boom")

    app.config["MAX_CONTENT_LENGTH"] = 1024
    client = app.test_client()
    cases = [
        (client.get("/projects/999999"), 404),
        (client.get("/projects/999999", headers={"Accept": "application/json"}), 404),
        (client.get("/logout"), 405),
        (client.post("/login", data={"email": "a@example.com", "password": "x"}), 400),
        (client.post("/register", data={"display_name": "x" * 2048}), 413),
        (client.get("/__boom"), 500),
        (client.get("/__boom", headers={"Accept": "application/json"}), 500),
        (client.get("/my/projects"), 302),
        (client.get("/my/projects", follow_redirects=True), 200),
        (client.post("/stripe/webhook", data=b"{}", headers={"Accept": "application/json"}), 400),
    ]
    gen_user()
    login_form = Browser(client)
    for _ in range(6):  # the sixth failed log in for one account in a minute is refused
        refused = login_form.login(password="wrong password")
    cases.append((refused, 429))
    for response, status in cases:
        assert response.status_code == status, (response.request.path, response.status_code)
    assert "boom" not in cases[5][0].get_data(as_text=True)
    assert len(csp_checked) >= len(cases)
