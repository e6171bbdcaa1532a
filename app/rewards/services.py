"""Reward tier operations, with the rules that protect backers once a project is live.

A draft's tiers change freely. While live, new tiers can be added and existing ones closed,
limited or reworded, but a tier that has backers can be neither deleted nor made dearer.
Its shipping rules may change: they price future pledges, and a pledge keeps the fee it paid.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext, ngettext

from app.errors import UserError
from app.extensions import db
from app.i18n import countries
from app.projects import revisions
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards import domain
from app.rewards.models import RewardTier, TierShippingRule

FIELDS = (
    "title",
    "description",
    "minimum_amount",
    "quantity_limit",
    "estimated_delivery",
)


# Tier attributes whose changes on a live project are kept as revisions, by revision field.
REVISION_FIELDS = {attribute: field for field, attribute in revisions.TIER_FIELDS.items()}


class TierError(UserError):
    """A tier operation refused; the message is fit to show the user."""


def floor(currency: str) -> int:
    """The least a new tier may ask in this currency (``MINIMUM_PLEDGE``), in minor units."""
    return int(current_app.config["MINIMUM_PLEDGE"].get(currency, 0))


def _check_open(project: Project) -> None:
    if project.status not in (ProjectStatus.DRAFT, ProjectStatus.LIVE):
        raise TierError(
            gettext(
                "Reward tiers cannot change while the project is %(status)s.",
                status=project.status.label,
            )
        )


def add_tier(project: Project, values: dict[str, Any], editor_id: int | None = None) -> RewardTier:
    _check_open(project)
    tier = RewardTier(project_id=project.id, **{k: values[k] for k in FIELDS if k in values})
    db.session.add(tier)
    set_rules(tier, values.get("shipping_rules", ()))
    db.session.flush()
    revisions.record(project, editor_id, "tier_added", "", tier.title, tier_id=tier.id)
    db.session.refresh(project)
    return tier


def update_tier(tier: RewardTier, values: dict[str, Any], editor_id: int | None = None) -> None:
    _check_open(tier.project)
    if tier.has_backers:
        new_minimum = values.get("minimum_amount", tier.minimum_amount)
        if new_minimum > tier.minimum_amount:
            raise TierError(gettext("This tier has backers: its minimum cannot be raised."))
        new_limit = values.get("quantity_limit", tier.quantity_limit)
        if new_limit is not None and new_limit < tier.claimed:
            raise TierError(
                ngettext(
                    "This tier already has %(num)d backer: the limit cannot be lower.",
                    "This tier already has %(num)d backers: the limit cannot be lower.",
                    tier.claimed,
                )
            )
    if "shipping_rules" in values:
        new_rules = tuple(values["shipping_rules"])
        revisions.record(
            tier.project, editor_id, "tier_shipping", rules_text(tier.rules), rules_text(new_rules),
            tier_id=tier.id,
        )  # fmt: skip
        set_rules(tier, new_rules)
    for key in FIELDS:
        if key in values:
            if key in REVISION_FIELDS:
                revisions.record(
                    tier.project, editor_id, REVISION_FIELDS[key], getattr(tier, key), values[key],
                    tier_id=tier.id,
                )  # fmt: skip
            setattr(tier, key, values[key])
    db.session.flush()


def delete_tier(tier: RewardTier, editor_id: int | None = None) -> None:
    project = tier.project
    _check_open(project)
    if tier.has_backers:
        raise TierError(gettext("This tier has backers and cannot be deleted; close it instead."))
    if project.status is ProjectStatus.LIVE and len(project.tiers) == 1:
        raise TierError(gettext("A live project needs at least one reward tier."))
    revisions.forget_tier(tier.id)  # its revisions stay, no longer pointing at it
    revisions.record(project, editor_id, "tier_deleted", tier.title, "")
    db.session.delete(tier)
    db.session.flush()
    db.session.refresh(project)


def set_closed(tier: RewardTier, closed: bool) -> None:
    """A closed tier stays on the page for its backers but takes no new pledges."""
    _check_open(tier.project)
    tier.is_closed = closed
    db.session.flush()


def rules_text(rules: tuple[domain.Rule, ...]) -> str:
    """A tier's shipping as one line of plain text, for its revisions ("" when digital)."""
    return "; ".join(f"{rule.destination} {rule.fee}" for rule in rules)


def set_rules(offer, rules, make: type = TierShippingRule) -> None:
    """Replace the shipping rules of a tier (or of an add-on, whose rule rows ``make``
    builds); no rules: digital, nothing ships. Validated by the caller (the form); checked
    again here so no caller stores a rule the domain refuses."""
    rules = tuple(rules)
    if rules:
        problem = domain.rule_problem(rules, countries.codes())
        if problem:
            raise TierError(gettext(problem))
    if rules == offer.rules:
        return
    offer.shipping_rules.clear()
    db.session.flush()  # the old rows go before new ones may take their destinations
    offer.shipping_rules.extend(make(destination=rule.destination, fee=rule.fee) for rule in rules)
