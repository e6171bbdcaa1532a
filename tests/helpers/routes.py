"""The site's routes as the access and CSRF tables see them: every rule and method, the URL
of each filled in from a world's objects, and a complete, valid form for each POST."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta

from werkzeug.routing.converters import AnyConverter

from app import create_app
from tests.helpers import PASSWORD
from tests.helpers.forms import draft_form, tier_form

NEW_PASSWORD = "plum kettle orbit"

IGNORED_METHODS = {"HEAD", "OPTIONS"}
STATIC_ENDPOINTS = {"static", "bootstrap.static"}
WEBHOOK = "pledges.webhook"

# URL variables, by name: which attribute of the world they point at.
URL_VALUES = {
    "project_id": "project_id",
    "pledge_id": "pledge_id",
    "tier_id": "tier_id",
    "session_id": "owner_session_id",
    "name": "cover",
    "entry_id": "faq_entry_id",
    "question_id": "question_id",
    "comment_id": "comment_id",
    "revision_id": "revision_id",
    "slug": "slug",
    "token": "unsubscribe_token",
    "user_id": "person_id",
    "person_slug": "person_slug",
    "number": "update_number",
    "image": "update_image",
    "update_id": "update_id",
    "tag_id": "referral_tag_id",
    "goal_id": "stretch_goal_id",
    "addon_id": "addon_id",
}
URL_OVERRIDES = {  # endpoint -> {variable: world attribute}, where another object is meant
    "statements.show": {"project_id": "ended_project_id"},
    "statements.backers_csv": {"project_id": "ended_project_id"},
    "accounts.verify_email": {"token": "verify_token"},
    "accounts.reset_password": {"token": "reset_token"},
    "settings.confirm_email": {"token": "email_change_token"},
    "settings.undo_email": {"token": "undo_token"},
}

# What each POST sends besides the CSRF token: a complete, valid form, so that a refusal is
# the access rule at work and never a validation error.
POST_DATA = {
    "accounts.login": lambda w: {"email": "nobody@example.com", "password": "not the password"},
    "accounts.language": lambda w: {"locale": "zh_Hans_CN", "next": "/"},
    "accounts.register": lambda w: {
        "email": "newcomer@example.com",
        "display_name": "Newcomer",
        "password": "a long enough password",
        "confirm": "a long enough password",
    },
    "projects.new": draft_form,
    "projects.edit": draft_form,  # a live project's form takes its words and ignores the rest
    "projects.cancel": lambda w: {"reason": "Changed my mind."},
    "projects.plan_launch": lambda w: {"launch_on": str(date.today() + timedelta(days=30))},
    "rewards.new": tier_form,
    "rewards.edit": tier_form,
    "addons.new": tier_form,  # the add-on form takes the tier form's fields, "minimum" its price
    "addons.edit": tier_form,
    "stretch.new": lambda w: {"amount": "5000", "title": "Film", "description": "A film."},
    "stretch.edit": lambda w: {"amount": "4000", "title": "Film", "description": "A film."},
    "pledges.back": lambda w: {"tier_id": str(w.tier_id), "amount": "30"},
    "pledges.change": lambda w: {"tier_id": str(w.backed_tier_id), "amount": "30"},
    "moderation.decide": lambda w: {
        f"{prefix}-reason": "Because." for prefix in ("approve", "changes", "reject", "suspend")
    },
    "payouts.connect": lambda w: {"country": "US"},
    "questions.manage": lambda w: {"question": "Does it ship to Canada?", "answer": "Yes."},
    "questions.edit_entry": lambda w: {"question": "Does it ship abroad?", "answer": "Yes."},
    "questions.ask": lambda w: {"body": "Is the lamp dimmable?"},
    "questions.answer": lambda w: {f"q{w.question_id}-answer": "Yes, in three steps."},
    "updates.new": lambda w: {"title": "Shipping news", "body": "Boxes.", "audience": "public"},
    "updates.edit": lambda w: {"title": "Shipping news", "body": "Boxes.", "audience": "public"},
    "updates.remove": lambda w: {"reason": "Posted by mistake."},
    "campaign.add_tag": lambda w: {"tag": "spring-news", "label": "April newsletter"},
    "reports.report_project": lambda w: {"reason": "spam", "details": "Copied from elsewhere."},
    "reports.decide": lambda w: {"note": "Checked the listing."},
    "reports.report_comment": lambda w: {"reason": "spam", "details": "An advertisement."},
    "reports.decide_comment": lambda w: {"note": "Checked the comment."},
    "reports.report_update": lambda w: {"reason": "spam", "details": "An advertisement."},
    "reports.decide_update": lambda w: {"note": "Checked the update."},
    "comments.post": lambda w: {"body": "When does it ship?"},
    "comments.edit": lambda w: {"body": "When does it ship to Oslo?"},
    "comments.hide": lambda w: {"reason": "Off topic."},
    "notifications.one_click": lambda w: {"List-Unsubscribe": "One-Click"},
    "fulfilment.ship": lambda w: {"tracking_number": "1Z999AA10123456784"},
    "fulfilment.upload": lambda w: {
        "tracking": (
            io.BytesIO(f"pledge_id,tracking_number\n{w.pledge_id},LX1\n".encode()),
            "t.csv",
        )
    },
    "fulfilment.problem": lambda w: {"problem": "The box arrived empty."},
    "settings.profile": lambda w: {
        "display_name": "Renamed Visitor",
        "bio": "About me.",
        "location": "Oslo",
        "website": "https://example.org/me",
        "locale": "en",
        "timezone": "Europe/Oslo",
    },
    "settings.delete_account": lambda w: {"password": PASSWORD, "confirm": "y"},
    "accounts.forgot_password": lambda w: {"email": "nobody@example.com"},
    "accounts.reset_password": lambda w: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "settings.password": lambda w: {
        "current_password": PASSWORD,
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    },
    "settings.email": lambda w: {"email": "moved-elsewhere@example.com", "password": PASSWORD},
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    variant: tuple[tuple[str, str], ...] = ()  # values of any(...) converters

    @property
    def key(self) -> str:
        return " ".join([self.method, *(f"{name}={value}" for name, value in self.variant)])

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


def routes_of(url_map) -> list[Route]:
    """Every rule and method the site answers, one entry per value of an any() converter."""
    found = []
    for rule in url_map.iter_rules():
        if rule.endpoint in STATIC_ENDPOINTS:
            continue
        variants: list[tuple[tuple[str, str], ...]] = [()]
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                variants = [
                    (*v, (name, item)) for v in variants for item in sorted(converter.items)
                ]
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.extend(Route(rule.endpoint, method, variant) for variant in variants)
    return sorted(found, key=str)


def site_routes() -> list[Route]:
    """The routes, read from an app built only for this (no database is touched)."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "routes", "DATABASE_URL": "sqlite://"},
            instance_path=instance,
        )
        return routes_of(app.url_map)


def url_of(app, route: Route, world) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == route.endpoint)
    overrides = URL_OVERRIDES.get(route.endpoint, {})
    values = dict(route.variant)
    for name in rule.arguments:
        if name in values:
            continue
        attribute = overrides.get(name) or URL_VALUES.get(name)
        assert attribute, f"{route}: say in URL_VALUES what <{name}> points at"
        values[name] = getattr(world, attribute)
    return app.url_map.bind("localhost").build(route.endpoint, values, method=route.method)


def post_data(route: Route, world) -> dict:
    make = POST_DATA.get(route.endpoint)
    return make(world) if make else {}
