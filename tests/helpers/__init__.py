"""Small helpers: make rows, and drive real forms through the test client."""

from __future__ import annotations

import functools
from html.parser import HTMLParser

import jinja2
from werkzeug.security import generate_password_hash

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.extensions import db

PASSWORD = "correct horse battery"


def gen_user(
    email: str = "ada@example.com",
    name: str = "Ada",
    role: Role = Role.USER,
    password: str = PASSWORD,
    verified: bool = True,
) -> User:
    """An account made straight through the service, its address proved unless not ``verified``."""
    user = accounts.register(email, name, password, role=role, verified=verified)
    db.session.commit()
    return user


def fast_password_hashing(monkeypatch) -> None:
    """A cheap hash for tests that make hundreds of accounts (log in stays real)."""
    fast = functools.partial(generate_password_hash, method="pbkdf2:sha256:1")
    monkeypatch.setattr(accounts, "generate_password_hash", fast)


class SharedTemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept across the per-test apps (checksummed against the source):
    every test builds a fresh app, which would otherwise recompile every template."""

    store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


class _FormParser(HTMLParser):
    """Collects the forms of a page: action, method and the default value of each field."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif tag in ("input", "select", "textarea") and self.forms and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "file"):
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def parse_forms(html: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Browser:
    """Fills a page's form like a person would: keeps hidden fields (CSRF), sets the rest."""

    def __init__(self, client) -> None:
        self.client = client

    def submit(
        self,
        url: str,
        data: dict | None = None,
        action: str | None = None,
        follow_redirects: bool = False,
        **kwargs,
    ):
        """GET ``url``, fill its form (the one posting to ``action``, else the page's own)."""
        page = self.client.get(url)
        if page.status_code == 301:  # moved for good (a project's readable URL): as a browser
            url = page.headers["Location"]
            page = self.client.get(url)
        assert page.status_code == 200, f"GET {url} answered {page.status_code}"
        forms = [f for f in parse_forms(page.get_data(as_text=True)) if f["method"] == "post"]
        if action is not None:
            matching = [f for f in forms if f["action"] == action]
            assert matching, f"no form posting to {action} on {url}"
            form = matching[0]
        else:
            form = _main_form(forms)
        fields = {**form["fields"], **(data or {})}
        fields = {k: v for k, v in fields.items() if v is not None}
        return self.client.post(
            form["action"] or url, data=fields, follow_redirects=follow_redirects, **kwargs
        )

    def login(self, email: str = "ada@example.com", password: str = PASSWORD, **fields):
        return self.submit("/login", {"email": email, "password": password, **fields})

    def logout(self):
        return self.submit("/", action="/logout")


def page_text(browser: Browser, url: str) -> str:
    """The page at ``url`` as a visitor reads it (following a move to a readable URL)."""
    response = browser.client.get(url, follow_redirects=True)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return response.get_data(as_text=True)


def csrf_token(browser: Browser, url: str = "/") -> str:
    """A CSRF token as a form on ``url`` holds it (for posts that no form on the page makes)."""
    forms = parse_forms(page_text(browser, url))
    return next(f for f in forms if "csrf_token" in f["fields"])["fields"]["csrf_token"]


def _main_form(forms: list[dict]) -> dict:
    """The page's own form: the first POST form that is not the navigation's log out."""
    forms = [f for f in forms if f["action"] != "/logout"]
    assert forms, "no POST form on the page"
    return forms[0]


# ---- projects and tiers -------------------------------------------------------------------

STORY = "A story long enough for review. " * 5


def project_path(project) -> str:
    """A project page's readable URL, as every link to it reads: ``/projects/12-moon-lamp``
    (the plain ``/projects/12`` answers with a redirect there)."""
    from app.projects.slugs import slug_of

    slug = slug_of(project.title)
    return f"/projects/{project.id}-{slug}" if slug else f"/projects/{project.id}"


def gen_project(
    owner: User,
    status: str = "draft",
    title: str = "Moon Lamp",
    goal: int = 100_000,
    currency: str = "USD",
    duration_days: int = 30,
    category_slug: str = "design",
    tiers: int = 1,
    mail: bool = False,
    **fields,
):
    """A project in the given state, reached through the real services (so the log is real).

    The review decision's and the launch's e-mails to the creator are forgotten unless
    ``mail``: they are the setup, not the news a test is about."""
    from sqlalchemy import select

    from app.projects import services
    from app.projects.models import Category

    category = db.session.scalar(select(Category).where(Category.slug == category_slug))
    project = services.create_draft(
        owner,
        {
            "title": title,
            "blurb": "A lamp shaped like the moon.",
            "story": STORY,
            "category_id": category.id,
            "currency": currency,
            "goal_amount": goal,
            "duration_days": duration_days,
            **fields,
        },
    )
    project.cover_image = project.cover_image or "0" * 32 + ".png"
    for i in range(tiers):
        gen_tier(project, title=f"Tier {i + 1}", minimum=1000 * (i + 1))
    if status == "draft":
        db.session.commit()
        return project
    services.submit(project, owner)
    if status in ("approved", "rejected", "live", "cancelled", "suspended"):
        moderator = _system_moderator()
        if status == "rejected":
            services.reject(project, moderator, "Not a fit.")
        else:
            services.approve(project, moderator)
        if status in ("live", "cancelled", "suspended"):
            services.launch(project, owner)
        if status == "cancelled":
            services.cancel(project, owner, "Changed my mind.")
        if status == "suspended":
            services.suspend(project, moderator, "Breaks the rules.")
    elif status != "submitted":
        raise ValueError(f"gen_project cannot make a {status} project")
    if not mail:
        _forget_setup_mail(project.id)
    db.session.commit()
    assert project.status.value == status
    return project


def _forget_setup_mail(project_id: int) -> None:
    from sqlalchemy import delete

    from app.notifications.models import Outbox
    from app.notifications.services import REVIEW_KINDS, Kind

    setup = [k.value for k in (*REVIEW_KINDS.values(), Kind.PROJECT_LAUNCHED_CREATOR)]
    db.session.execute(
        delete(Outbox).where(Outbox.project_id == project_id, Outbox.kind.in_(setup))
    )


def _system_moderator() -> User:
    from app.accounts.models import Role

    existing = accounts.find_by_email("gen-moderator@example.com")
    return existing or gen_user("gen-moderator@example.com", "Gen Mod", role=Role.MODERATOR)


def gen_tier(project, title: str = "Thank you", minimum: int = 1000, **fields):
    from datetime import date

    from app.rewards import services as rewards
    from app.rewards.domain import Rule

    # shipping_fee=500: ships anywhere for that fee (one "world" rule); shipping={...}: a
    # destination -> fee mapping; neither: a digital reward.
    fields.pop("ships", None)
    shipping = fields.pop("shipping", None)
    flat = fields.pop("shipping_fee", None)
    if shipping is None and flat is not None:
        shipping = {"world": flat}
    values = {
        "title": title,
        "description": "A warm thank-you.",
        "minimum_amount": minimum,
        "estimated_delivery": date(2030, 1, 1),
        "shipping_rules": [Rule(d, fee) for d, fee in (shipping or {}).items()],
        **fields,
    }
    return rewards.add_tier(project, values)


def set_shipping(tier, shipping: dict[str, int] | None):
    """Give a tier these shipping rules (destination -> fee); None or {}: digital."""
    from app.rewards import services as rewards
    from app.rewards.domain import Rule

    rewards.update_tier(tier, {"shipping_rules": [Rule(d, f) for d, f in (shipping or {}).items()]})
    return tier


class _DangerFinder(HTMLParser):
    """Collects markup that could run script: tags, handlers and URLs."""

    BAD_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "base", "form", "meta"}
    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data"}

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BAD_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in self.URL_ATTRS and value:
                scheme = "".join(value.split()).lower().split(":", 1)[0]
                if scheme in {"javascript", "data", "vbscript"}:
                    self.found.append(f"{tag} {name}={value[:30]}")


def dangerous_markup(html: str, allowed_forms: bool = True) -> list[str]:
    """Script-capable markup in a page, outside the site's own <script src> and forms."""
    finder = _DangerFinder()
    finder.feed(html)
    own = {"<script>", "<form>", "<meta>"} if allowed_forms else {"<script>"}
    return [f for f in finder.found if f not in own]
