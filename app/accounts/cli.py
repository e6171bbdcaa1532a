"""`flask users ...`: create admins and set roles from the command line."""

import click
from flask.cli import AppGroup

from app.accounts import services, sessions
from app.accounts.models import Role
from app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts and roles.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", "display_name", default="Admin", show_default=True)
@click.option("--password", help="Password for a new account (prompted when omitted).")
def create_admin(email: str, display_name: str, password: str | None) -> None:
    """Create an admin account, or make an existing account an admin."""
    user = services.find_by_email(email)
    try:
        if user is None:
            if password is None:
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            user = services.register(email, display_name, password, role=Role.ADMIN, verified=True)
        else:
            user = services.set_role(email, Role.ADMIN.value)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{user.email} is now an admin.")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role")
def set_role(email: str, role: str) -> None:
    """Give an account a role: user, moderator or admin."""
    try:
        user = services.set_role(email, role)
    except services.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{user.email} is now {user.role.value}.")


@users_cli.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account: it cannot log in, and every session and remember-me cookie of it
    ends at once."""
    user = services.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email {email!r}.")
    ended = sessions.disable(user)
    db.session.commit()
    click.echo(f"{user.email} is disabled; {ended} session(s) ended.")


@users_cli.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Let a disabled account log in again (its old sessions stay ended)."""
    user = services.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email {email!r}.")
    sessions.enable(user)
    db.session.commit()
    click.echo(f"{user.email} may log in again.")
