"""`flask demo seed`: fill a local site with demo people, projects and pledges;
`flask demo end PROJECT`: end a live one now, to watch it settle (offline only);
`flask demo survey PROJECT`: a funded one's backer survey, sent, with a few answers."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app import clock
from app.accounts.models import User
from app.accounts.services import AccountError
from app.demo import conversation, delivery, ending, history, pledging
from app.demo import seed as demo
from app.demo import surveys as demo_surveys
from app.demo.data import BACKERS, DEMO_PASSWORD, PEOPLE
from app.extensions import db
from app.money import format_money
from app.workflow import transaction

demo_cli = AppGroup("demo", help="Demo data for a locally-run site.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create demo accounts, projects and pledges (once: a second run changes nothing but
    prints the demo logins again)."""
    existing = demo.already_present()
    if existing is not None:
        click.echo(f"Demo data already present ({existing.email} exists); nothing to do.")
        _print_logins()
        return
    try:
        with transaction():
            summary = demo.seed()
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    pledges = pledging.make_pledges(summary.live, summary.backer_ids)
    live = [p.id for p in summary.live if p.spec.status == "live"]
    funded = [p.id for p in summary.live if p.spec.status == "funded"]
    with transaction():
        posted = conversation.add_comments(live)
        history.spread([p.id for p in summary.live], clock.now())
        published = conversation.add_updates(live[0]) if live else 0
    delivered = _deliver(funded) if not pledges.warning else []

    statuses = ", ".join(f"{count} {status}" for status, count in summary.by_status.items())
    projects = sum(summary.by_status.values())
    accounts = len(summary.people) + len(summary.backer_ids)
    click.echo(f"Created {accounts} accounts and {projects} projects ({statuses}),")
    click.echo(f"with {summary.tiers} reward tiers and a generated cover image each.")
    # Read after the funded project is paid out: its pledges are no longer in escrow.
    in_escrow = pledging.held_by_currency() if delivered else pledges.held
    held = ", ".join(format_money(amount, code) for code, amount in in_escrow.items())
    click.echo(
        f"Made {pledges.made} pledges through the payment provider with a test card; "
        f"held in escrow: {held or 'nothing'}."
    )
    click.echo(f"Posted {posted} comments and creator replies on live projects.")
    click.echo(f"Published {published} updates (one for backers only) on a live project.")
    for done in delivered:
        click.echo(
            f"Ended project {done.project_id} ({done.title}): funded and paid out "
            f"({done.paid_out} to the creator); {done.answered} of {done.backers} backers "
            f"answered its survey; {done.shipped} rewards shipped, {done.received} confirmed "
            f"received, {done.problems} problem reported."
        )
    if pledges.warning:
        click.echo(_warning(pledges), err=True)
    _print_logins()


@demo_cli.command("end")
@click.argument("project")
def end_command(project: str) -> None:
    """Offline only: move live PROJECT's deadline (its number) to now; the scheduler then
    settles it, paying out or refunding, as at a real deadline."""
    try:
        with transaction():
            ended, moved = ending.end_now(project, clock.now())
    except ending.DemoEndRefused as error:
        raise click.ClickException(str(error)) from None
    name = f"Project {ended.id} ({ended.title})"
    if moved:
        click.echo(f"{name} now ends: its deadline is {ended.deadline:%Y-%m-%d %H:%M:%S} UTC.")
    else:
        click.echo(f"{name} is already past its deadline and waits for settlement.")
    seconds = current_app.config["SCHEDULER_INTERVAL_SECONDS"]
    click.echo(
        f"The scheduler settles it at its next run (every {seconds} s, "
        f"SCHEDULER_INTERVAL_SECONDS), or now: flask projects settle --project {ended.id}. "
        "Funded, it pays out once the creator has set up payouts and the fake Stripe's funds "
        "are available (FAKESTRIPE_AVAILABLE_AFTER in scripts/run); failed, every backer is "
        "refunded."
    )


@demo_cli.command("survey")
@click.argument("project", type=int)
def survey_command(project: int) -> None:
    """Give funded PROJECT (its number) a sent backer survey, answered by a few backers."""
    try:
        with transaction():
            asked, answered = demo_surveys.survey_demo(project)
    except demo_surveys.DemoSurveyRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Project {project}: survey sent to {asked} backers (mails in the outbox), "
        f"{answered} answered. The creator reads it at /projects/{project}/survey."
    )


def _deliver(project_ids: list[int]) -> list[delivery.Delivered]:
    """The funded demo projects, ended, paid out and shipping; a step that cannot be done is
    a warning, and that project waits as a real one would."""
    done = []
    for project_id in project_ids:
        try:
            done.append(delivery.deliver(project_id))
        except delivery.DeliveryStopped as stopped:
            db.session.rollback()
            click.echo(
                f"Note: project {project_id} was not carried past its end: {stopped}", err=True
            )
    return done


def _print_logins() -> None:
    """The demo accounts that exist, to log in with (printed on every seed, new or not)."""
    emails = {*(p.email for p in PEOPLE), *(b.email for b in BACKERS)}
    present = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    people = [p for p in PEOPLE if p.email in present]
    backers = [b for b in BACKERS if b.email in present]
    if not people and not backers:
        return
    click.echo("")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    width = max((len(p.email) for p in people), default=0)
    for person in people:
        click.echo(f"  {person.email:<{width}}  {person.role.value:<9}  {person.name}")
    if backers:
        click.echo(f"  and {len(backers)} backers: {backers[0].email} to {backers[-1].email}")


def _warning(pledges: pledging.PledgeSummary) -> str:
    config = current_app.config
    provider = (
        "Stripe (STRIPE_SECRET_KEY)"
        if config["STRIPE_SECRET_KEY"]
        else f"the fake Stripe at {config['STRIPE_API_BASE']} (is it running?)"
    )
    if pledges.made:
        what = f"pledging stopped after {pledges.made} pledges; the totals count only those"
    else:
        what = "no pledges were made, so every project shows zero pledged"
    return (
        f"Warning: {what}. The payment provider failed: {pledges.warning}\n"
        f"Check {provider}. To seed with pledges, start again from an empty database."
    )
