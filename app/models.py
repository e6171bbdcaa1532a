"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from app.accounts.models import Role, User

__all__ = ["Role", "User"]
