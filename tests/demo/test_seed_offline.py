"""`flask demo seed` when the payment provider cannot be reached: the projects are made, with
no pledges, and the command says why (on an empty site of its own: test_seed.py's tests share
one seeded site)."""

import socket

from sqlalchemy import select

from app import payments
from app.audit import books
from app.extensions import db
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_payment_provider_gives_projects_without_pledges(app, runner):
    saved = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{closed_port()}"
    payments.init_app(app)
    try:
        result = runner.invoke(args=["demo", "seed"])
    finally:
        app.config["STRIPE_API_BASE"] = saved
        payments.init_app(app)
    assert result.exit_code == 0, result.output
    assert "Warning: no pledges were made" in result.output
    assert "could not reach the payment provider" in result.output
    assert "Made 0 pledges" in result.output
    projects = db.session.scalars(select(Project).where(Project.status == ProjectStatus.LIVE)).all()
    assert len(projects) >= 8
    for project in projects:
        assert (project.pledged_amount, project.backer_count) == (0, 0)
        assert all(t.claimed == 0 for t in project.tiers)
    # The one attempt is on record as failed ("The payment could not start."), nothing open.
    statuses = db.session.scalars(select(Pledge.status)).all()
    assert [s.value for s in statuses] == ["failed"]
    assert books.check() == []
