"""The home page."""

from flask import Blueprint, render_template

from app.projects import services

bp = Blueprint("main", __name__, template_folder="templates")


@bp.route("/")
def index():
    newest = services.discover(services.DiscoverQuery(sort="newest"), per_page=6).items
    ending = services.discover(services.DiscoverQuery(sort="ending"), per_page=3).items
    return render_template("main/index.html", newest=newest, ending=ending)
