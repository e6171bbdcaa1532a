"""Small helpers: make rows, and drive real forms through the test client."""

from __future__ import annotations

from html.parser import HTMLParser

from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.extensions import db

PASSWORD = "correct horse battery"


def gen_user(
    email: str = "ada@example.com",
    name: str = "Ada",
    role: Role = Role.USER,
    password: str = PASSWORD,
) -> User:
    user = accounts.register(email, name, password, role=role)
    db.session.commit()
    return user


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
        form_index: int | None = None,
        follow_redirects: bool = False,
        **kwargs,
    ):
        page = self.client.get(url)
        assert page.status_code == 200, f"GET {url} answered {page.status_code}"
        forms = [f for f in parse_forms(page.get_data(as_text=True)) if f["method"] == "post"]
        form = forms[form_index] if form_index is not None else _main_form(forms)
        fields = {**form["fields"], **(data or {})}
        fields = {k: v for k, v in fields.items() if v is not None}
        return self.client.post(
            form["action"] or url, data=fields, follow_redirects=follow_redirects, **kwargs
        )

    def login(self, email: str = "ada@example.com", password: str = PASSWORD, **fields):
        return self.submit("/login", {"email": email, "password": password, **fields})

    def logout(self):
        return self.submit("/", form_index=0)


def _main_form(forms: list[dict]) -> dict:
    """The page's own form: the last POST form (the navigation's log out form comes first)."""
    assert forms, "no POST form on the page"
    return forms[-1]
