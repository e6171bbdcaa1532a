"""A public project's QR code, and sitemap.xml and robots.txt: what search engines may find
and what they should not."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from app import clock
from app.extensions import db
from app.notifications.messages import absolute_url
from app.projects.models import Project
from app.projects.slugs import slug_of
from app.sharing import preview, services

bp = Blueprint("sharing", __name__, template_folder="templates")

# Pages that are someone's own or staff's, forms and payment steps: never in a search engine.
# (Private projects need no line: they answer 404 to a crawler.)
PRIVATE_PATHS = (
    "/my/",
    "/pledges/",
    "/payouts/",
    "/moderation/",
    "/admin/",
    "/account/",
    "/login",
    "/register",
    "/logout",
    "/language",
    "/projects/new",
    "/projects/*/back",
    "/projects/*/edit",
    "/projects/*/cancel",
    "/projects/*/launch",
    "/projects/*/submit",
    "/projects/*/statement",
    "/projects/*/tiers/",
    "/tiers/",
    "/stripe/",
)


@bp.app_template_global()
def project_share(project):
    """The share box's and preview tags' facts for a project page (None unless public)."""
    return preview.share_of(project, clock.now())


@bp.route("/projects/<int:project_id>/qr.svg")
def qr(project_id: int):
    """The QR code of a public project's readable URL, for WeChat; none for any other."""
    project = db.session.get(Project, project_id)
    if project is None or not project.is_public:
        abort(404)
    url = absolute_url("projects.show", project_id=project.id)
    svg = preview.qr_svg(url)  # the same for every reader, so a shared cache may keep it
    response = Response(svg, mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.route("/sitemap.xml")
def sitemap():
    pages = [absolute_url("main.index"), absolute_url("projects.discover")]
    entries = (
        (absolute_url("projects.show", project_id=e.project_id, slug=slug_of(e.title)), e.lastmod)
        for e in services.sitemap_projects()
    )
    xml = render_template("sharing/sitemap.xml", pages=pages, entries=entries)
    return Response(xml, mimetype="application/xml")


@bp.route("/robots.txt")
def robots():
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    lines += ["", f"Sitemap: {absolute_url('sharing.sitemap')}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.cache_control.max_age = 3600
    return response
