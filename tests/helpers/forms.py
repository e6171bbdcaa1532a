"""Valid bodies for the site's forms, and the messages a rendered form shows under a field."""

from __future__ import annotations

import html
import re
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.projects.models import Category
from tests.helpers import STORY

# The project form, filled in as a creator would (category 4 is "design").
PROJECT = {
    "title": "Moon Lamp",
    "blurb": "A lamp shaped like the moon.",
    "story": STORY,
    "category_id": "4",
    "currency": "USD",
    "goal": "5000",
    "duration_days": "30",
    "creator_timezone": "Europe/Paris",
}


def field_errors(page: str, name: str) -> list[str]:
    """The messages shown under the field called ``name`` on a rendered form."""
    for block in re.split(r'(?=<div class="mb-3)', page):
        if f'name="{name}"' in block:
            found = re.findall(r'<div class="invalid-feedback[^"]*">(.*?)</div>', block, re.S)
            return [html.unescape(m.strip()) for m in found]
    raise AssertionError(f"no field {name!r} on the page")


def _category_id() -> str:
    return str(db.session.scalar(select(Category.id).where(Category.slug == "design")))


def _delivery() -> str:
    return f"{date.today().year + 2}-05"


def draft_form(_world=None) -> dict:
    """The edit form of a draft (or the new project form), every field changed."""
    return {
        "title": "Changed by the visitor",
        "blurb": "New words.",
        "story": "A new story. " * 10,
        "category_id": _category_id(),
        "currency": "EUR",
        "goal": "999",
        "duration_days": "20",
        "creator_timezone": "UTC",
    }


def live_form(_world=None) -> dict:
    """The edit form of a live project: its words only."""
    return {"title": "Changed by the visitor", "blurb": "New words.", "story": "New. " * 20}


def tier_form(_world=None) -> dict:
    return {"title": "Changed tier", "minimum": "6", "estimated_delivery": _delivery()}
