"""Domain events: what happened, raised inside the transaction that made it happen.

Bookkeeping code says what happened (``publish(ProjectFunded(project_id))``); the packages
that react subscribe to it (``app/notifications/handlers.py`` writes the e-mails to the
outbox). Handlers run at once, in the publisher's transaction, so the news is kept or rolled
back with the change itself and a resumed step publishes again harmlessly (outbox rows are
unique per news and recipient). Plain Python: no Flask, no database here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """The base of every domain event."""


@dataclass(frozen=True)
class ProjectFunded(Event):
    project_id: int


@dataclass(frozen=True)
class ProjectFailed(Event):
    project_id: int


@dataclass(frozen=True)
class ProjectStopped(Event):
    """Cancelled by its creator or suspended by a moderator."""

    project_id: int


@dataclass(frozen=True)
class RefundsPlanned(Event):
    project_id: int
    pledge_ids: Sequence[int]


@dataclass(frozen=True)
class ProjectPaidOut(Event):
    project_id: int
    net: int


@dataclass(frozen=True)
class ReconciliationDiffers(Event):
    """A scheduled check found the project's books and Stripe disagreeing."""

    project_id: int
    reconciliation_id: int
    count: int


@dataclass(frozen=True)
class PaymentReturned(Event):
    """A payment succeeded for a pledge no longer waiting for it: refunded in full at once."""

    pledge_id: int
    payment_id: int
    amount: int


@dataclass(frozen=True)
class PledgesRefunded(Event):
    """Refunds finished for these pledges (those now refunded in full are told)."""

    pledge_ids: Sequence[int]


@dataclass(frozen=True)
class RefundFailed(Event):
    """A refund Stripe had made failed later: the money is back with the platform."""

    pledge_id: int
    refund_id: int
    amount: int


@dataclass(frozen=True)
class ReportsDecided(Event):
    """Moderators decided these reports (dismissed, or acted on): their reporters hear."""

    report_ids: Sequence[int]


@dataclass(frozen=True)
class PledgeHeld(Event):
    """A pledge's first payment succeeded and the money is held in escrow."""

    pledge_id: int


@dataclass(frozen=True)
class PledgeChanged(Event):
    """A held pledge was changed: ``after`` is its new total, ``before`` the old one. More
    money came with ``payment_id``; less goes back with ``refund_ids``. ``ref`` names this
    change among the pledge's changes (a payment, or the pledge's version)."""

    pledge_id: int
    before: int
    after: int
    ref: str
    payment_id: int | None = None
    refund_ids: Sequence[int] = ()


@dataclass(frozen=True)
class PledgeCancelled(Event):
    """The backer cancelled a held pledge; ``refund_ids`` return ``amount``."""

    pledge_id: int
    amount: int
    refund_ids: Sequence[int] = ()


@dataclass(frozen=True)
class PaymentFailed(Event):
    """A pledge's payment did not go through: the card was declined (the backer may try
    again while the payment is open) or the payment ran out of time (``expired``)."""

    pledge_id: int
    payment_id: int
    expired: bool = False


@dataclass(frozen=True)
class StretchGoalReached(Event):
    """A project's pledged total passed one of its stretch goals for the first time."""

    goal_id: int
    project_id: int


@dataclass(frozen=True)
class ProjectReviewed(Event):
    """A moderator decided on a submitted project: ``decision`` is "approve",
    "request_changes" or "reject"; ``reason`` is what they wrote for the creator."""

    project_id: int
    decision: str
    reason: str = ""


@dataclass(frozen=True)
class ProjectLaunched(Event):
    project_id: int


@dataclass(frozen=True)
class QuestionAsked(Event):
    """A visitor asked a project's creator a question privately."""

    question_id: int


@dataclass(frozen=True)
class QuestionAnswered(Event):
    """The creator answered a question (and perhaps published it in the FAQ)."""

    question_id: int


@dataclass(frozen=True)
class CommentPosted(Event):
    """A comment or a reply was posted (the author of the comment a reply answers hears)."""

    comment_id: int


@dataclass(frozen=True)
class UpdatePublished(Event):
    """A creator published an update: its backers (and, if public, followers) are mailed."""

    update_id: int
    project_id: int
    public: bool


@dataclass(frozen=True)
class RewardsShipped(Event):
    """A creator marked rewards as shipped (or gave a new tracking number): each backer of
    these pledges, or of every pledge of ``tier_id``, hears once per notice."""

    project_id: int
    pledge_ids: Sequence[int] = ()
    tier_id: int | None = None


@dataclass(frozen=True)
class DeliveryProblemReported(Event):
    """A backer reported a problem with their reward: the creator hears."""

    shipment_id: int


@dataclass(frozen=True)
class VerificationRequested(Event):
    """A new account, or its owner asking again: a link to prove the address is mailed."""

    user_id: int


@dataclass(frozen=True)
class SignUpWithTakenAddress(Event):
    """Someone signed up with the address of an existing account: its owner is told."""

    user_id: int


@dataclass(frozen=True)
class PasswordResetRequested(Event):
    """A reset link is mailed, for the request that set ``reset_serial`` to ``serial``."""

    user_id: int
    serial: int


@dataclass(frozen=True)
class PasswordChanged(Event):
    """The password was changed (``reset``: through a reset link); every other session ended."""

    user_id: int
    reset: bool = False


@dataclass(frozen=True)
class EmailChangeRequested(Event):
    """A link to confirm ``new_email`` is mailed to it; nothing changes until it is followed."""

    user_id: int
    new_email: str


@dataclass(frozen=True)
class EmailChanged(Event):
    """The address moved from ``old_email`` to ``new_email``: the old one gets an undo link."""

    user_id: int
    old_email: str
    new_email: str


Handler = Callable[[Event], None]
_handlers: defaultdict[type[Event], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[Event], handler: Handler) -> None:
    """Call ``handler`` for every ``event_type`` published; subscribing twice changes nothing."""
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def publish(event: Event) -> None:
    for handler in _handlers[type(event)]:
        handler(event)
