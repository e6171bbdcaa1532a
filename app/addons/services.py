"""Add-on operations, with the rules that protect backers once a project is live.

As for reward tiers (app/rewards/services.py): a draft's add-ons change freely; while live,
add-ons can be added, closed, limited or reworded, but one that backers hold can be neither
deleted nor made dearer, nor limited below what they hold. A pledge keeps the price and the
shipping fee its line was made with.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, ngettext
from sqlalchemy import select

from app.addons.models import Addon, AddonShippingRule, PaymentAddon, PledgeAddon
from app.errors import UserError
from app.extensions import db
from app.projects.domain import ProjectStatus
from app.projects.models import Project
from app.rewards.services import set_rules

FIELDS = ("title", "description", "price", "quantity_limit")


class AddonError(UserError):
    """An add-on operation refused; the message is fit to show the user."""


def _check_open(project: Project) -> None:
    if project.status not in (ProjectStatus.DRAFT, ProjectStatus.LIVE):
        raise AddonError(
            gettext(
                "Add-ons cannot change while the project is %(status)s.",
                status=project.status.label,
            )
        )


def add_addon(project: Project, values: dict[str, Any]) -> Addon:
    _check_open(project)
    addon = Addon(project_id=project.id, **{k: values[k] for k in FIELDS if k in values})
    db.session.add(addon)
    set_rules(addon, values.get("shipping_rules", ()), AddonShippingRule)
    db.session.flush()
    db.session.expire(project, ["addons"])
    return addon


def update_addon(addon: Addon, values: dict[str, Any]) -> None:
    _check_open(addon.project)
    if addon.has_backers:
        if values.get("price", addon.price) > addon.price:
            raise AddonError(gettext("Backers hold this add-on: its price cannot be raised."))
        limit = values.get("quantity_limit", addon.quantity_limit)
        if limit is not None and limit < addon.claimed:
            raise AddonError(
                ngettext(
                    "Backers hold %(num)d of this add-on: the limit cannot be lower.",
                    "Backers hold %(num)d of this add-on: the limit cannot be lower.",
                    addon.claimed,
                )
            )
    if "shipping_rules" in values:
        set_rules(addon, values["shipping_rules"], AddonShippingRule)
    for key in FIELDS:
        if key in values:
            setattr(addon, key, values[key])
    db.session.flush()


def delete_addon(addon: Addon) -> None:
    project = addon.project
    _check_open(project)
    if addon.has_backers or _ever_chosen(addon.id):
        raise AddonError(gettext("Backers chose this add-on: close it instead of deleting it."))
    db.session.delete(addon)
    db.session.flush()
    db.session.expire(project, ["addons"])


def _ever_chosen(addon_id: int) -> bool:
    """Whether a pledge or a payment has a line of it (even one that ended unpaid, whose
    history keeps the line)."""
    return any(
        db.session.scalar(select(model.addon_id).where(model.addon_id == addon_id).limit(1))
        for model in (PledgeAddon, PaymentAddon)
    )


def set_closed(addon: Addon, closed: bool) -> None:
    """A closed add-on stays with the pledges that hold it but is offered to nobody."""
    _check_open(addon.project)
    addon.is_closed = closed
    db.session.flush()
