"""The pledge form: a reward, an amount, add-ons, and where to ship it."""

from __future__ import annotations

from flask import request
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app import money
from app.i18n import countries
from app.i18n import web as i18n_web
from app.pledges.services import MAX_PLEDGE_MAJOR
from app.pledges.services.extras import MAX_QUANTITY
from app.rewards import domain


def country_choices(project=None) -> list[SelectChoice]:
    """The countries the project's rewards ship to (every country when none ships, or for
    no project), named and sorted in the reader's language."""
    named = countries.named(i18n_web.current())
    offers = [*project.tiers, *project.addons] if project is not None else []
    shipping = [offer for offer in offers if offer.ships]
    if shipping:
        reached = {c for t in shipping for c in countries_shipped(t)}
        named = tuple((code, name) for code, name in named if code in reached)
    return [SelectChoice("", gettext("Choose a country")), *(SelectChoice(*c) for c in named)]


def countries_shipped(offer) -> dict[str, int]:
    """Each country a tier or an add-on ships to, with its fee."""
    return domain.countries_shipped(offer.rules, countries.codes(), offer.project.country)


def _country_codes() -> frozenset[str]:
    return countries.codes()


class VersionField(HiddenField):
    """The version of the pledge the page showed: a change decided on it is refused if the
    pledge has moved since (another tab, a payment completing). Empty on a new pledge."""

    def process_formdata(self, valuelist):
        raw = (valuelist or [""])[0].strip()
        self.data = int(raw) if raw.isdigit() and len(raw) < 10 else None
        self.raw = raw

    def pre_validate(self, form):
        if getattr(self, "raw", "") and self.data is None:
            raise ValidationError(gettext("This page is out of date: reload it and try again."))


class CancelForm(FlaskForm):
    """Cancel a pledge: the CSRF token and the version the page showed."""

    version = VersionField()


class PledgeForm(FlaskForm):
    tier_id = RadioField(
        _l("Reward"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose a reward."))],
        validate_choice=False,  # validate_tier_id says why a reward cannot be chosen
    )
    amount = StringField(
        _l("Pledge amount"),
        validators=[InputRequired()],
        description=_l("At least the reward's minimum; shipping is added."),
    )
    shipping_country = SelectField(_l("Ship to"), default="", validate_choice=False)
    version = VersionField()
    submit = SubmitField(_l("Continue to payment"))
    europe_codes = sorted(domain.EUROPE)  # for back.js, which prices shipping as one types
    max_addon_quantity = MAX_QUANTITY

    def __init__(self, *args, project, current_tier=None, held_addons=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.current_tier = current_tier
        # Add-on quantities, by add-on id: what the pledge holds (a change), then what was
        # asked for (read from the request's fields "addon-<id>" by validate).
        self.held_addons: dict[int, int] = dict(held_addons or {})
        self.addon_quantities: dict[int, int] = dict(self.held_addons)
        self.addon_errors: dict[int, str] = {}
        self.tier_id.choices = [SelectChoice(t.id, t.title) for t in project.tiers]
        # The rewards a backer may choose: open ones, and the one their pledge already has.
        self.choosable = {t.id for t in project.tiers if t.available or t is current_tier}
        self.shipping_country.choices = country_choices(project)

    def addon_choices(self) -> list:
        """The add-ons offered here: open ones, and those the pledge holds already."""
        return [a for a in self.project.addons if a.available or a.id in self.held_addons]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._validate_addons() and valid

    def _validate_addons(self) -> bool:
        """Each "addon-<id>" field: a whole number from 0 to MAX_QUANTITY; more than the
        pledge holds only of an add-on still open with enough left, that ships to the
        chosen country (one is required when an add-on chosen ships)."""
        country = self.shipping_country.data
        for addon in self.project.addons:  # also those not offered: asked for, refused
            raw = request.form.get(f"addon-{addon.id}", "").strip()
            if not raw.isdigit() or len(raw) > 3 or int(raw) > MAX_QUANTITY:
                if raw:
                    self.addon_errors[addon.id] = gettext(
                        "Enter a whole number from 0 to %(max)d.", max=MAX_QUANTITY
                    )
                    continue
                raw = "0"
            quantity, held = int(raw), self.held_addons.get(addon.id, 0)
            self.addon_quantities[addon.id] = quantity
            if quantity > held and not addon.available:
                self.addon_errors[addon.id] = gettext("This add-on is no longer available.")
            elif (
                quantity > held
                and addon.remaining is not None
                and quantity - held > addon.remaining
            ):
                self.addon_errors[addon.id] = ngettext(
                    "Only %(num)d left.", "Only %(num)d left.", addon.remaining
                )
            elif quantity and addon.ships and not country and not self.shipping_country.errors:
                self.shipping_country.errors.append(
                    gettext("An add-on you chose ships: choose the country to ship it to.")
                )
            elif quantity and addon.ships and country and addon.shipping_fee_to(country) is None:
                self.addon_errors[addon.id] = gettext(
                    "This add-on does not ship to %(country)s.",
                    country=countries.name(country, i18n_web.current()),
                )
        return not self.addon_errors and not self.shipping_country.errors

    def chosen_addons(self) -> tuple[tuple[int, int], ...]:
        return tuple((a, q) for a, q in sorted(self.addon_quantities.items()) if q)

    def addons_preview(self) -> int:
        """The add-ons chosen so far, with their shipping to the chosen country."""
        country, cost = self.shipping_country.data, 0
        for addon in self.project.addons:
            quantity = self.addon_quantities.get(addon.id, 0)
            fee = addon.shipping_fee_to(country) if addon.ships and country else None
            cost += quantity * (addon.price + (fee or 0))
        return cost

    def total_preview(self) -> tuple[int, int] | None:
        """(pledge, shipping) in minor units for the chosen reward and the amount typed so far;
        None until both make sense. Shown before the pay page, and kept live by back.js."""
        tier = next((t for t in self.project.tiers if t.id == self.tier_id.data), None)
        if tier is None or not self.amount.data:
            return None
        try:
            amount = money.parse_amount(
                self.amount.data, self.project.currency, locale=i18n_web.current()
            )
        except money.MoneyError:
            return None
        country = self.shipping_country.data
        fee = tier.shipping_fee_to(country) if tier.ships and country else None
        return amount, fee or 0

    def validate_tier_id(self, field: RadioField) -> None:
        tier = next((t for t in self.project.tiers if t.id == field.data), None)
        if tier is None:
            raise ValidationError(gettext("Choose one of this project's rewards."))
        if tier.id not in self.choosable:
            if tier.sold_out:
                raise ValidationError(gettext("This reward is sold out. Choose another one."))
            raise ValidationError(
                gettext("This reward is closed to new backers. Choose another one.")
            )

    def validate_amount(self, field: StringField) -> None:
        try:
            self.amount_minor = money.parse_amount(
                field.data, self.project.currency, locale=i18n_web.current()
            )
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None
        tier = next((t for t in self.project.tiers if t.id == self.tier_id.data), None)
        if tier is not None and self.amount_minor < tier.minimum_amount:
            minimum = money.format_money(
                tier.minimum_amount, self.project.currency, locale=i18n_web.current()
            )
            raise ValidationError(
                gettext("This reward needs a pledge of at least %(minimum)s.", minimum=minimum)
            )
        maximum = MAX_PLEDGE_MAJOR * money.currency(self.project.currency).factor
        if self.amount_minor > maximum:
            limit = money.format_money(maximum, self.project.currency, locale=i18n_web.current())
            raise ValidationError(gettext("A pledge can be at most %(limit)s.", limit=limit))

    def validate_shipping_country(self, field: SelectField) -> None:
        tier = next((t for t in self.project.tiers if t.id == self.tier_id.data), None)
        if field.data and field.data not in _country_codes():
            raise ValidationError(gettext("Choose a country from the list."))
        if tier is None or not tier.ships:
            return
        if not field.data:
            raise ValidationError(gettext("This reward ships: choose the country to ship it to."))
        if tier.shipping_fee_to(field.data) is None:
            raise ValidationError(
                gettext(
                    "This reward does not ship to %(country)s. Choose another country or reward.",
                    country=countries.name(field.data, i18n_web.current()),
                )
            )
