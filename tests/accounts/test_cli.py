"""`flask users create-admin` and `flask users set-role`."""

from sqlalchemy import select

from app.accounts.models import Role, User
from app.extensions import db
from tests.helpers import gen_user


def role_of(email: str) -> Role:
    db.session.expire_all()
    return db.session.scalar(select(User.role).where(User.email == email))


def test_create_admin_makes_a_new_account(runner):
    result = runner.invoke(
        args=["users", "create-admin", "Root@Example.com"],
        input="a long admin password\na long admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "root@example.com is now an admin." in result.output
    assert role_of("root@example.com") is Role.ADMIN


def test_create_admin_promotes_an_existing_account(runner):
    gen_user()
    result = runner.invoke(args=["users", "create-admin", "ada@example.com"])
    assert result.exit_code == 0, result.output
    assert role_of("ada@example.com") is Role.ADMIN


def test_create_admin_refuses_a_short_password(runner):
    result = runner.invoke(args=["users", "create-admin", "root@example.com", "--password", "x"])
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    assert role_of("root@example.com") is None


def test_set_role(runner):
    gen_user()
    result = runner.invoke(args=["users", "set-role", "ADA@example.com", "moderator"])
    assert result.exit_code == 0, result.output
    assert role_of("ada@example.com") is Role.MODERATOR
    runner.invoke(args=["users", "set-role", "ada@example.com", "user"])
    assert role_of("ada@example.com") is Role.USER


def test_set_role_unknown_email(runner):
    result = runner.invoke(args=["users", "set-role", "ghost@example.com", "admin"])
    assert result.exit_code == 1
    assert "No account has the email 'ghost@example.com'." in result.output


def test_set_role_unknown_role(runner):
    gen_user()
    result = runner.invoke(args=["users", "set-role", "ada@example.com", "emperor"])
    assert result.exit_code == 1
    assert "Unknown role 'emperor'; choose one of: user, moderator, admin." in result.output
    assert role_of("ada@example.com") is Role.USER
