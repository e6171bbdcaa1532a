"""Mail about rewards: each backer hears when theirs is shipped (once per notice: again only
for a new tracking number), and the creator hears of a backer's problem."""

from __future__ import annotations

from sqlalchemy import String, cast, literal, select

from app import events
from app.accounts.models import User
from app.extensions import db
from app.fulfilment.models import Shipment
from app.notifications.services import Kind, _constants, _insert_new, to_user
from app.pledges.models import Pledge
from app.projects.models import Project


def rewards_shipped(event: events.RewardsShipped) -> None:
    """One statement, whatever the number of backers; the key names the shipment's notice."""
    kind = Kind.REWARD_SHIPPED_BACKER
    k, status, attempts, next_at, created = _constants(kind)
    rows = (
        select(
            literal(f"{kind.value}:", String)
            + cast(Shipment.id, String)
            + literal(":", String)
            + cast(Shipment.notice, String),
            k,
            User.id,
            User.email,
            User.display_name,
            Pledge.project_id,
            Pledge.id,
            Pledge.total,
            Pledge.currency,
            status,
            attempts,
            next_at,
            created,
        )
        .join(Pledge, Pledge.id == Shipment.pledge_id)
        .join(User, User.id == Pledge.backer_id)
        .where(Shipment.project_id == event.project_id)
    )
    if event.tier_id is not None:
        rows = rows.where(Pledge.tier_id == event.tier_id)
    else:
        rows = rows.where(Shipment.pledge_id.in_([int(i) for i in event.pledge_ids]))
    _insert_new(rows)


def problem_reported(event: events.DeliveryProblemReported) -> None:
    shipment = db.session.get(Shipment, event.shipment_id)
    pledge = db.session.get(Pledge, shipment.pledge_id)
    owner_id = db.session.scalar(select(Project.owner_id).where(Project.id == pledge.project_id))
    kind = Kind.DELIVERY_PROBLEM_CREATOR
    to_user(
        kind,
        f"{kind.value}:{shipment.id}",
        owner_id,
        project_id=pledge.project_id,
        data={
            "pledge_id": pledge.id,
            "backer": pledge.backer.display_name,
            "tier": pledge.tier.title,
            "problem": shipment.problem,
        },
    )
