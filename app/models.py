"""Every model, imported in one place so Alembic and the tests see the whole schema."""

from app.accounts.models import Role, User
from app.accounts.sessions import UserSession
from app.addons.models import Addon, AddonShippingRule, PaymentAddon, PledgeAddon
from app.audit.models import Reconciliation
from app.campaign.models import FundingHour, ReferralTag
from app.comments.models import Comment
from app.follows.models import Follow
from app.fulfilment.models import Shipment
from app.ledger.models import LedgerEntry, LedgerTransaction
from app.notifications.models import Outbox
from app.payouts.models import ConnectedAccount, Payout
from app.pledges.models import Payment, Pledge, Refund, StripeEvent
from app.projects.models import Category, Project, ProjectEvent, ProjectRevision
from app.questions.models import FaqEntry, Question
from app.reports.models import Report
from app.rewards.models import RewardTier
from app.stretch.models import StretchGoal
from app.surveys.models import Survey, SurveyQuestion, SurveyResponse
from app.updates.models import Update

__all__ = [
    "Addon",
    "AddonShippingRule",
    "Category",
    "Comment",
    "ConnectedAccount",
    "FaqEntry",
    "Follow",
    "FundingHour",
    "LedgerEntry",
    "LedgerTransaction",
    "Outbox",
    "Payment",
    "PaymentAddon",
    "Payout",
    "Pledge",
    "PledgeAddon",
    "Project",
    "ProjectEvent",
    "ProjectRevision",
    "Question",
    "Reconciliation",
    "ReferralTag",
    "Refund",
    "Report",
    "RewardTier",
    "Role",
    "Shipment",
    "StretchGoal",
    "StripeEvent",
    "Survey",
    "SurveyQuestion",
    "SurveyResponse",
    "Update",
    "User",
    "UserSession",
]
