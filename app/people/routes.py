"""The public profile of a person who creates or backs projects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext
from markupsafe import Markup, escape

from app.accounts.models import User
from app.extensions import db
from app.people import services
from app.projects import uploads

bp = Blueprint("people", __name__, template_folder="templates")


@bp.app_template_global()
def person_name(user: User | None) -> str:
    """The name to show for a user; a deleted account's in the reader's language."""
    if user is None or user.deleted_at is not None:
        return gettext("Deleted user")
    return user.display_name


@bp.app_template_global()
def person_link(user: User | None, **attributes: str) -> Markup:
    """The user's name linked to their profile; the bare name for an account that is gone."""
    name = escape(person_name(user))
    if user is None or user.is_gone:
        return name
    extra = Markup("").join(
        Markup(' {}="{}"').format(k.rstrip("_"), v) for k, v in attributes.items()
    )
    href = url_for("people.show", user_id=user.id)
    return Markup('<a href="{}"{}>{}</a>').format(href, extra, name)


@bp.app_template_filter("web_url")
def web_url(url: str | None) -> str:
    """The address if it is http(s) (as the profile form insists), else "": never a link that
    runs script, whatever reached the column."""
    value = (url or "").strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc and value == url:
        return value
    return ""


@bp.url_defaults
def add_slug(endpoint: str, values: dict) -> None:
    """Every link to a profile is its readable URL: ``/people/12-ada-lovelace``."""
    if endpoint != "people.show" or "user_id" not in values:
        return
    if "person_slug" not in values:
        user = db.session.get(User, values["user_id"])
        values["person_slug"] = services.slug_of_person(user) if user else ""
    if not values["person_slug"]:
        del values["person_slug"]


# As project pages: the id finds the person, the slug is for people; another spelling (an old
# name's slug, the bare id) is sent on to the right one with a 301.
@bp.route("/people/<int:user_id>")
@bp.route("/people/<int:user_id>-<person_slug>")
def show(user_id: int, person_slug: str = ""):
    user = services.public_user(user_id)
    if user is None:
        abort(404)
    if person_slug != services.slug_of_person(user):
        target = url_for("people.show", user_id=user.id)
        query = request.query_string.decode("latin-1")
        return redirect(f"{target}?{query}" if query else target, 301)
    return render_template("people/show.html", profile=services.profile_of(user))


@bp.route("/people/<int:user_id>/picture")
def avatar(user_id: int):
    user = services.public_user(user_id)
    if user is None or not user.avatar_image or not uploads.STORED_NAME.match(user.avatar_image):
        abort(404)
    name = user.avatar_image
    ext = name.rsplit(".", 1)[1]
    return send_from_directory(
        uploads.upload_dir(), name, mimetype=uploads.CONTENT_TYPES[ext], max_age=3600
    )
