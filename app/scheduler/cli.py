"""`flask scheduler run`: the one process that runs the background jobs."""

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from app import scheduler

scheduler_cli = AppGroup("scheduler", help="Background jobs.")


@scheduler_cli.command("run")
def run() -> None:
    """Run the jobs every SCHEDULER_INTERVAL_SECONDS (UTC) until stopped. Run one per site."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    jobs = scheduler.build(current_app._get_current_object())
    click.echo("Scheduler running: " + ", ".join(job.name for job in jobs.get_jobs()))
    try:
        jobs.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")
