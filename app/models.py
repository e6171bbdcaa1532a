"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from app.accounts.models import Role, User
from app.accounts.sessions import UserSession
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.notifications.models import Outbox
from app.payouts.models import ConnectedAccount, Payout
from app.pledges.models import Payment, Pledge, Refund, StripeEvent
from app.projects.models import Category, Project, ProjectEvent
from app.rewards.models import RewardTier

__all__ = [
    "Category",
    "ConnectedAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Outbox",
    "Payment",
    "Payout",
    "Pledge",
    "Project",
    "ProjectEvent",
    "Refund",
    "RewardTier",
    "Role",
    "StripeEvent",
    "User",
    "UserSession",
]
