"""Pledge rules in plain Python: the state machine, amounts, and when a pledge may change."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.errors import UserError
from app.i18n import N_, gettext
from app.projects.domain import ProjectStatus


class PledgeStatus(enum.StrEnum):
    PENDING = "pending"  # payment started, a reward place reserved
    HELD = "held"  # money in escrow
    REFUNDING = "refunding"  # a full refund is under way
    REFUNDED = "refunded"
    COLLECTED = "collected"  # part of the creator's payout
    FAILED = "failed"  # card declined, payment abandoned or expired
    REFUND_FAILED = "refund_failed"  # Stripe refused the refund: needs a human

    @property
    def label(self) -> str:
        """The state's name in the reader's language: "refund failed", "退款失败"."""
        return gettext(STATUS_LABELS[self])


P = PledgeStatus

STATUS_LABELS = {
    P.PENDING: N_("pending"),
    P.HELD: N_("held"),
    P.REFUNDING: N_("refunding"),
    P.REFUNDED: N_("refunded"),
    P.COLLECTED: N_("collected"),
    P.FAILED: N_("failed"),
    P.REFUND_FAILED: N_("refund failed"),
}

# The one table of allowed pledge transitions.
TRANSITIONS: dict[PledgeStatus, frozenset[PledgeStatus]] = {
    # A payment that lands after the project closed goes straight to a refund.
    P.PENDING: frozenset({P.HELD, P.FAILED, P.REFUNDING}),
    P.HELD: frozenset({P.REFUNDING, P.COLLECTED}),
    P.REFUNDING: frozenset({P.REFUNDED, P.REFUND_FAILED}),
    P.REFUND_FAILED: frozenset({P.REFUNDING}),  # an admin retries
    # Money that lands after a pledge ended (a payment given up, then charged after all; a
    # payment for a pledge already refunded) is refunded in full: the pledge refunds again.
    P.REFUNDED: frozenset({P.REFUNDING}),
    P.COLLECTED: frozenset(),
    P.FAILED: frozenset({P.REFUNDING}),
}
OPEN_STATUSES = frozenset({P.PENDING, P.HELD})  # one open pledge per backer and project
FINAL_STATUSES = frozenset({P.REFUNDED, P.COLLECTED, P.FAILED})


class IllegalPledgeTransition(UserError):
    """A pledge state change the rules forbid."""


def check_transition(current: PledgeStatus, target: PledgeStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalPledgeTransition(
            gettext(
                "A %(status)s pledge cannot become %(target)s.",
                status=current.label,
                target=target.label,
            )
        )


class PledgeRefused(UserError):
    """A pledge or change the rules do not allow; the message says why."""


def check_open_for_pledges(status: ProjectStatus, deadline: datetime | None, now: datetime) -> None:
    """Pledges are taken only while the project is live and before its deadline."""
    if status != ProjectStatus.LIVE:
        raise PledgeRefused(gettext("This project is not taking pledges."))
    if deadline is None or now >= deadline:
        raise PledgeRefused(
            gettext("This project has reached its deadline and no longer takes pledges.")
        )


def check_amount(amount: int, tier_minimum: int, maximum: int) -> None:
    if amount < tier_minimum:
        raise PledgeRefused(gettext("The pledge is below this reward's minimum."))
    if amount > maximum:
        raise PledgeRefused(gettext("The pledge is larger than we accept."))


LAST_DAY = timedelta(hours=24)


def check_reduction_allowed(
    *, pledged_total: int, goal: int, reduction: int, deadline: datetime, now: datetime
) -> None:
    """Kickstarter's rule: in the last 24 hours, no backer may take a funded project back
    below its goal by cancelling or reducing a pledge."""
    if reduction <= 0 or deadline - now > LAST_DAY:
        return
    if pledged_total >= goal and pledged_total - reduction < goal:
        raise PledgeRefused(
            gettext(
                "In the last 24 hours you cannot cancel or reduce a pledge if that would take "
                "the project back below its goal."
            )
        )


@dataclass(frozen=True)
class Change:
    """What changing a pledge from one total to another asks of the payment side."""

    charge: int  # a new payment for the difference
    refund: int  # a refund of the difference


def change_for(old_total: int, new_total: int) -> Change:
    if new_total > old_total:
        return Change(charge=new_total - old_total, refund=0)
    return Change(charge=0, refund=old_total - new_total)


ABANDON_WINDOW = timedelta(hours=24)


def start_allowed_at(
    abandoned: list[datetime], now: datetime, threshold: int, cooldown: timedelta
) -> datetime | None:
    """When an account that keeps leaving pledges unpaid may start the next one: None if at
    once. ``abandoned`` are the moments its unpaid pledges ended. From the ``threshold``-th
    within 24 hours on, each new start waits ``cooldown`` after the last, doubling with each
    further one, so a limited tier cannot be held empty by reserving without paying."""
    recent = sorted(t for t in abandoned if now - t < ABANDON_WINDOW)
    if threshold <= 0 or len(recent) < threshold:
        return None
    wait = cooldown * 2 ** min(len(recent) - threshold, 10)
    allowed = recent[-1] + wait
    return allowed if allowed > now else None
