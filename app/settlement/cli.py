"""`flask projects settle`: settle due projects now, as the scheduler does every minute."""

import click
from flask.cli import AppGroup

from app.settlement import runner

projects_cli = AppGroup("projects", help="Project operations.")


@projects_cli.command("settle")
@click.option("--project", "project_id", type=int, help="Only this project.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; change nothing.")
def settle(project_id: int | None, dry_run: bool) -> None:
    """Close projects past their deadline: pay out funded ones, refund the rest."""
    bars: dict[int, object] = {}

    def progress(project: int, done: int, total: int) -> None:
        """A bar per project with refunds to make (only worth drawing on long runs)."""
        if total < 20:
            return
        if project not in bars:
            bars[project] = click.progressbar(
                length=total, label=f"Refunds of {project}", show_pos=True, show_eta=True
            )
            bars[project].__enter__()
        bar = bars[project]
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    reports = runner.settle_due(project_id, dry_run=dry_run, progress=progress)
    if not reports:
        click.echo("Nothing to settle.")
    for r in reports:
        line = f"project {r.project_id} ({r.title}): {r.outcome}"
        if r.refunds_planned or r.refunds_made:
            line += f", refunds planned {r.refunds_planned}, made {r.refunds_made}"
        if r.payout or r.would_pay:
            line += f", payout {r.payout or r.would_pay}"
        if not dry_run:
            line += ", settled" if r.settled else ", work left for the next run"
        click.echo(line)
