"""`flask notifications ...`: deliver the outbox now, as the scheduler does every interval;
requeue given-up messages; delete old sent ones."""

import click
from flask import current_app
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


@notifications_cli.command("retry")
@click.option(
    "--id",
    "ids",
    type=click.IntRange(min=1),
    multiple=True,
    help="Only this message (repeatable); all given-up messages by default.",
)
def retry(ids: tuple[int, ...]) -> None:
    """Put given-up (failed) e-mails back in the queue: due now, attempts from zero."""
    requeued = sender.retry_failed(ids or None)
    db.session.commit()
    if not requeued:
        which = "with id " + ", ".join(map(str, sorted(set(ids)))) + " " if ids else ""
        click.echo(f"No given-up message {which}to requeue.")
        return
    line = f"Requeued {len(requeued)} given-up message(s); the next send delivers them."
    skipped = sorted(set(ids) - set(requeued))
    if skipped:
        line += " Not given up (or no such message): {}.".format(", ".join(map(str, skipped)))
    click.echo(line)


@notifications_cli.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="Delete sent e-mails sent more than DAYS days ago (default: OUTBOX_KEEP_DAYS).",
    metavar="DAYS",
)
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(min=1),
    default=sender.PURGE_BATCH_SIZE,
    show_default=True,
    help="Rows deleted per transaction.",
)
def purge(days: int | None, batch_size: int) -> None:
    """Delete old sent e-mails from the outbox; pending and given-up ones are kept."""
    if days is None:
        days = current_app.config["OUTBOX_KEEP_DAYS"]
        if days < 1:
            raise click.UsageError(f"OUTBOX_KEEP_DAYS must be at least 1, not {days}.")
    deleted = sender.purge_sent(days, batch_size=batch_size)
    db.session.commit()
    if not deleted:
        click.echo(f"No sent message older than {days} day(s) to delete.")
        return
    click.echo(f"Deleted {deleted} sent message(s) older than {days} day(s).")


@notifications_cli.command("digest")
def digest() -> None:
    """Write the daily digests of new backers and of new comments that are due (as the
    scheduler does); they are sent with the other mail. A digest already written for today
    is not written again."""
    from app import clock
    from app.notifications import comments, digests

    written = digests.write_due(clock.now()) + comments.write_due_digests(clock.now())
    db.session.commit()
    click.echo(f"Digests written: {written}.")
