"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from app.accounts.models import Role, User
from app.projects.models import Category, Project, ProjectEvent
from app.rewards.models import RewardTier

__all__ = ["Category", "Project", "ProjectEvent", "RewardTier", "Role", "User"]
