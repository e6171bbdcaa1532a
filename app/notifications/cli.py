"""`flask notifications send`: deliver the outbox now, as the scheduler does every interval."""

import click
from flask.cli import AppGroup

from app.extensions import db
from app.notifications import sender

notifications_cli = AppGroup("notifications", help="E-mail notifications.")


@notifications_cli.command("send")
@click.option(
    "--batch",
    "batch_size",
    default=sender.BATCH_SIZE,
    show_default=True,
    help="Messages claimed and sent per batch.",
)
def send(batch_size: int) -> None:
    """Send every pending e-mail that is due (MAIL_BACKEND says how)."""
    report = sender.send_pending(batch_size=batch_size)
    left = sender.counts()
    db.session.commit()
    line = f"Sent {report.sent}, failed {report.failed}"
    if report.stopped:
        line += f" (stopped: {report.stopped})"
    line += "; waiting {}, given up {}.".format(left.get("pending", 0), left.get("failed", 0))
    click.echo(line)
