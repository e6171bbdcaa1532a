"""The scheduler process: its jobs, their timing rules, and settlement running from it."""

from datetime import UTC

from app import scheduler
from app.extensions import db
from tests.helpers.settling import back


def test_jobs_run_every_interval_in_utc_one_at_a_time(app):
    app.config["SCHEDULER_INTERVAL_SECONDS"] = 60
    built = scheduler.build(app)
    jobs = {job.id: job for job in built.get_jobs()}
    assert set(jobs) == {"pledges-sweep", "settlement", "reconciliation", "notifications-send"}
    for job in jobs.values():
        assert job.trigger.interval.total_seconds() == 60
    # Applied to every job when the scheduler starts (APScheduler keeps them as defaults).
    assert built._job_defaults["coalesce"] is True
    assert built._job_defaults["max_instances"] == 1
    assert built.timezone == UTC


def test_the_settlement_job_settles_due_projects(app, creator, project, stripe_fake, clock):
    back(app, stripe_fake, project, ["100"])
    clock.jump_past(project.deadline)
    db.session.commit()
    job = {j.id: j for j in scheduler.build(app).get_jobs()}["settlement"]
    job.func()  # what the scheduler calls every interval
    db.session.refresh(project)
    assert project.status.value == "failed" and project.settled_at is not None


def test_a_failing_job_does_not_stop_the_scheduler(app, monkeypatch, caplog):
    from app.settlement import runner

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(runner, "settle_due", boom)
    job = {j.id: j for j in scheduler.build(app).get_jobs()}["settlement"]
    job.func()  # logged, not raised
    assert "scheduled job settle_projects failed" in caplog.text
