"""A pledge's add-ons: priced from the project's add-ons, their items claimed and released
like reward places (``places.claim_place``), with one conditional UPDATE per add-on.

A pledge holds its lines in ``pledge_addons``; a payment carries the lines it will give the
pledge when it succeeds in ``payment_addons`` (as it carries ``target_tier_id``). Items are
claimed when asked for (a start or a change), released when a line shrinks (at once for a
change that refunds, when its payment succeeds for one that charges), when a payment that
claimed them closes unpaid, and when the pledge is cancelled.

One short database step per function: it flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import delete, insert, select, update

from app.addons.models import Addon, PaymentAddon, PledgeAddon
from app.extensions import db
from app.moves import move
from app.pledges.domain import PledgeRefused
from app.pledges.models import Payment, Pledge
from app.pledges.services.places import country_name, shipping_for
from app.projects.models import Project
from app.rewards.models import RewardTier

MAX_QUANTITY = 10  # of one add-on in one pledge


@dataclass(frozen=True)
class Line:
    addon_id: int
    quantity: int
    amount: int  # price times quantity, minor units
    shipping_fee: int = 0  # the add-on's fee to the pledge's country, times quantity

    @property
    def total(self) -> int:
        return self.amount + self.shipping_fee


@dataclass(frozen=True)
class Priced:
    """What a pledge's terms cost: the reward's shipping, the country, the add-on lines."""

    shipping_fee: int
    country: str | None
    lines: tuple[Line, ...] = ()

    @property
    def addons_amount(self) -> int:
        return sum(line.total for line in self.lines)


def price(
    project: Project,
    tier: RewardTier,
    amount: int,
    country: str | None,
    addons: Iterable[tuple[int, int]],
    pledge: Pledge | None = None,
) -> Priced:
    """Price a pledge's terms; refused (PledgeRefused) when something does not ship there,
    is not the project's, or is asked for in a quantity out of range.

    For a change (``pledge``), what stays as it was keeps the price it paid: the same reward
    to the same country keeps its fee, an add-on line of the same quantity keeps its amount."""
    country = (country or "").upper() or None
    same_place = pledge is not None and country == pledge.shipping_country
    if pledge is not None and same_place and tier.id == pledge.tier_id:
        shipping, kept_country = pledge.shipping_fee, pledge.shipping_country
    else:
        shipping, kept_country = shipping_for(tier, country)
    kept = {line.addon_id: line for line in pledge.addon_lines} if same_place else {}
    lines, ships = [], False
    for addon_id, quantity in sorted(dict(addons).items()):
        if quantity == 0:
            continue
        if not 0 < quantity <= MAX_QUANTITY:
            raise PledgeRefused(
                gettext("Choose from 0 to %(max)d of each add-on.", max=MAX_QUANTITY)
            )
        addon = db.session.get(Addon, addon_id)
        if addon is None or addon.project_id != project.id:
            raise PledgeRefused(gettext("Choose one of this project's add-ons."))
        ships = ships or addon.ships
        old = kept.get(addon_id)
        if old is not None and old.quantity == quantity:
            lines.append(Line(addon_id, quantity, old.amount, old.shipping_fee))
            continue
        lines.append(
            Line(addon_id, quantity, addon.price * quantity, _fee(addon, country) * quantity)
        )
    return Priced(shipping, kept_country or (country if ships else None), tuple(lines))


def _fee(addon: Addon, country: str | None) -> int:
    if not addon.ships:
        return 0
    if not country:
        raise PledgeRefused(
            gettext("The add-on “%(title)s” ships: choose the country to ship it to.",
                    title=addon.title)
        )  # fmt: skip
    fee = addon.shipping_fee_to(country)
    if fee is None:
        raise PledgeRefused(
            gettext("The add-on “%(title)s” does not ship to %(country)s.",
                    title=addon.title, country=country_name(country))
        )  # fmt: skip
    return fee


def quantities(lines: Iterable[Line | PledgeAddon | PaymentAddon]) -> dict[int, int]:
    return {line.addon_id: line.quantity for line in lines}


def more_of(after: Mapping[int, int], before: Mapping[int, int]) -> dict[int, int]:
    """The items ``after`` has beyond ``before``, by add-on."""
    more = {a: q - before.get(a, 0) for a, q in after.items()}
    return {a: q for a, q in more.items() if q > 0}


def claim(project_id: int, items: Mapping[int, int]) -> None:
    """Take ``items`` (add-on id to count) with one conditional UPDATE each, in id order
    (so two pledges claiming the same add-ons queue, never deadlock): never oversold."""
    for addon_id, count in sorted(items.items()):
        won = move(
            Addon,
            addon_id,
            None,
            where=[
                Addon.project_id == project_id,
                Addon.is_closed.is_(False),
                Addon.quantity_limit.is_(None) | (Addon.claimed + count <= Addon.quantity_limit),
            ],
            claimed=Addon.claimed + count,
        )
        if not won:
            title = db.session.scalar(select(Addon.title).where(Addon.id == addon_id))
            raise PledgeRefused(
                gettext("Sorry, not enough of the add-on “%(title)s” is left, or it is no "
                        "longer available.", title=title)
            )  # fmt: skip


def release(items: Mapping[int, int]) -> None:
    for addon_id, count in sorted(items.items()):
        db.session.execute(
            update(Addon)
            .where(Addon.id == addon_id, Addon.claimed >= count)
            .values(claimed=Addon.claimed - count)
            .execution_options(synchronize_session=False)
        )


def _rows(lines: Iterable[Line], **key: int) -> list[dict]:
    return [
        {**key, "addon_id": line.addon_id, "quantity": line.quantity, "amount": line.amount,
         "shipping_fee": line.shipping_fee}
        for line in lines
    ]  # fmt: skip


def set_pledge_lines(pledge: Pledge, lines: Iterable[Line]) -> None:
    """The pledge holds ``lines`` now (its ``addons_amount`` their sum)."""
    lines = tuple(lines)
    db.session.execute(delete(PledgeAddon).where(PledgeAddon.pledge_id == pledge.id))
    if lines:
        db.session.execute(insert(PledgeAddon), _rows(lines, pledge_id=pledge.id))
    pledge.addons_amount = sum(line.total for line in lines)
    db.session.flush()
    db.session.expire(pledge, ["addon_lines"])


def add_payment_lines(payment: Payment, lines: Iterable[Line]) -> None:
    lines = tuple(lines)
    if lines:
        db.session.execute(insert(PaymentAddon), _rows(lines, payment_id=payment.id))
        db.session.expire(payment, ["target_addons"])


def payment_lines(payment: Payment) -> tuple[Line, ...]:
    return tuple(
        Line(line.addon_id, line.quantity, line.amount, line.shipping_fee)
        for line in payment.target_addons
    )
