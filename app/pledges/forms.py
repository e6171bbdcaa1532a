"""The pledge form: a reward, an amount, and where to ship it."""

from __future__ import annotations

from functools import cache

import pycountry
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from app import money
from app.pledges.services import MAX_PLEDGE_MAJOR


@cache
def country_choices() -> list[SelectChoice]:
    countries = sorted(pycountry.countries, key=lambda c: c.name)
    return [
        SelectChoice("", "Choose a country"),
        *[SelectChoice(c.alpha_2, c.name) for c in countries],
    ]


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


class VersionField(HiddenField):
    """The version of the pledge the page showed: a change decided on it is refused if the
    pledge has moved since (another tab, a payment completing). Empty on a new pledge."""

    def process_formdata(self, valuelist):
        raw = (valuelist or [""])[0].strip()
        self.data = int(raw) if raw.isdigit() and len(raw) < 10 else None
        self.raw = raw

    def pre_validate(self, form):
        if getattr(self, "raw", "") and self.data is None:
            raise ValidationError("This page is out of date: reload it and try again.")


class CancelForm(FlaskForm):
    """Cancel a pledge: the CSRF token and the version the page showed."""

    version = VersionField()


class PledgeForm(FlaskForm):
    tier_id = RadioField(
        "Reward",
        coerce=int,
        validators=[InputRequired(message="Choose a reward.")],
        validate_choice=False,  # validate_tier_id says why a reward cannot be chosen
    )
    amount = StringField(
        "Pledge amount",
        validators=[InputRequired()],
        description="At least the reward's minimum; shipping is added.",
    )
    shipping_country = SelectField("Ship to", default="", validate_choice=False)
    version = VersionField()
    submit = SubmitField("Continue to payment")

    def __init__(self, *args, project, current_tier=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.current_tier = current_tier
        self.tier_id.choices = [SelectChoice(t.id, t.title) for t in project.tiers]
        # The rewards a backer may choose: open ones, and the one their pledge already has.
        self.choosable = {t.id for t in project.tiers if t.available or t is current_tier}
        self.shipping_country.choices = country_choices()

    def total_preview(self) -> tuple[int, int] | None:
        """(pledge, shipping) in minor units for the chosen reward and the amount typed so far;
        None until both make sense. Shown before the pay page, and kept live by back.js."""
        tier = next((t for t in self.project.tiers if t.id == self.tier_id.data), None)
        if tier is None or not self.amount.data:
            return None
        try:
            amount = money.parse_amount(self.amount.data, self.project.currency)
        except money.MoneyError:
            return None
        return amount, tier.shipping_fee or 0

    def validate_tier_id(self, field: RadioField) -> None:
        tier = next((t for t in self.project.tiers if t.id == field.data), None)
        if tier is None:
            raise ValidationError("Choose one of this project's rewards.")
        if tier.id not in self.choosable:
            if tier.sold_out:
                raise ValidationError("This reward is sold out. Choose another one.")
            raise ValidationError("This reward is closed to new backers. Choose another one.")

    def validate_amount(self, field: StringField) -> None:
        try:
            self.amount_minor = money.parse_amount(field.data, self.project.currency)
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None
        tier = next((t for t in self.project.tiers if t.id == self.tier_id.data), None)
        if tier is not None and self.amount_minor < tier.minimum_amount:
            minimum = money.format_money(tier.minimum_amount, self.project.currency)
            raise ValidationError(f"This reward needs a pledge of at least {minimum}.")
        maximum = MAX_PLEDGE_MAJOR * money.currency(self.project.currency).factor
        if self.amount_minor > maximum:
            limit = money.format_money(maximum, self.project.currency)
            raise ValidationError(f"A pledge can be at most {limit}.")

    def validate_shipping_country(self, field: SelectField) -> None:
        tier = next((t for t in self.project.tiers if t.id == self.tier_id.data), None)
        if field.data and field.data not in _country_codes():
            raise ValidationError("Choose a country from the list.")
        if tier is not None and tier.ships and not field.data:
            raise ValidationError("This reward ships: choose the country to ship it to.")
