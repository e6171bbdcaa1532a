"""`flask demo end PROJECT`: offline, a live project's deadline comes to now and the next
settlement sweep settles it, as at a real deadline."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock, scheduler
from app.extensions import db
from app.pledges.domain import PledgeStatus
from app.pledges.models import Pledge
from app.projects.domain import ProjectStatus
from app.projects.models import Project, ProjectEvent
from tests.helpers import gen_project, gen_user


@pytest.fixture
def creator(app):
    return gen_user("creator@example.com", "Cora")


def end(runner, project):
    return runner.invoke(args=["demo", "end", str(project)])


def refused(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]


def test_refused_with_a_real_stripe_key(app, runner, creator):
    project = gen_project(creator, "live")
    deadline = project.deadline
    app.config["STRIPE_SECRET_KEY"] = "sk_test_real"
    try:
        result = end(runner, project.id)
    finally:
        app.config["STRIPE_SECRET_KEY"] = ""
    refused(result, "works only offline")
    db.session.expire_all()
    assert db.session.get(Project, project.id).deadline == deadline


def test_bad_arguments_are_one_line_each(runner, creator):
    draft = gen_project(creator, "draft", title="Still a draft")
    refused(end(runner, "moon-lamp"), "PROJECT is a project's number")
    refused(end(runner, "3.5"), "PROJECT is a project's number")
    refused(end(runner, 999_999), "There is no project 999999.")
    refused(end(runner, 10**20), "There is no project")
    refused(end(runner, draft.id), f"Project {draft.id} (Still a draft) is draft, not live")
    assert runner.invoke(args=["demo", "end"]).exit_code == 2  # click: missing argument


def test_ends_a_live_project_and_the_sweep_settles_it(runner, creator, stripe_fake):
    project = gen_project(creator, "live")
    before = clock.now()
    result = end(runner, project.id)
    assert result.exit_code == 0, result.output
    assert f"Project {project.id} (Moon Lamp) now ends" in result.output
    assert f"flask projects settle --project {project.id}" in result.output
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert before <= project.deadline <= clock.now()
    assert project.status is ProjectStatus.LIVE
    event = project.events[-1]
    assert (event.action, event.actor_id) == ("demo_end", None)
    assert "to now (flask demo end)" in event.reason

    again = end(runner, project.id)  # harmless before the sweep
    assert again.exit_code == 0 and "already past its deadline" in again.output

    scheduler.settle_projects()  # the scheduler's settlement job
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.status is ProjectStatus.FAILED and project.settled_at is not None
    refused(end(runner, project.id), "is failed, not live")


def test_a_seeded_project_ends_and_settles_with_its_real_pledges(runner, stripe_fake):
    seeded = runner.invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0, seeded.output
    live = db.session.scalars(
        select(Project).where(Project.status == ProjectStatus.LIVE).order_by(Project.id)
    ).all()
    short = next(p for p in live if 0 < p.pledged_amount < p.goal_amount)
    funded = next(p for p in live if p.pledged_amount >= p.goal_amount)
    others = {p.id: p.deadline for p in live if p not in (short, funded)}
    for project in (short, funded):
        assert project.deadline - clock.now() > timedelta(minutes=5)
        assert end(runner, project.id).exit_code == 0
    scheduler.settle_projects()
    db.session.expire_all()
    assert db.session.get(Project, funded.id).status is ProjectStatus.FUNDED  # payout waits
    assert db.session.get(Project, short.id).status is ProjectStatus.FAILED
    refunded = db.session.scalars(select(Pledge.status).where(Pledge.project_id == short.id))
    assert set(refunded) == {PledgeStatus.REFUNDED}
    still = db.session.execute(
        select(Project.id, Project.deadline, Project.status).where(Project.id.in_(others))
    ).all()
    assert all(s is ProjectStatus.LIVE and d == others[i] for i, d, s in still)
    assert db.session.scalar(
        select(ProjectEvent.id).where(
            ProjectEvent.project_id == funded.id, ProjectEvent.action == "demo_end"
        )
    )
