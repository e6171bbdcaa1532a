"""The reward tier form."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    MonthField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from app import clock, money
from app.forms import WholeNumberField, strip
from app.i18n import countries
from app.i18n import web as i18n_web
from app.projects.forms import NumberRange  # safe for integers too large for a float
from app.rewards import domain

MAX_QUANTITY = 1_000_000


def destination_choices() -> list[SelectChoice]:
    """The presets first, then every country named in the reader's language."""
    return [
        SelectChoice("", gettext("No destination")),
        *(SelectChoice(region, gettext(domain.REGION_LABELS[region])) for region in domain.REGIONS),
        *(SelectChoice(code, name) for code, name in countries.named(i18n_web.current())),
    ]


class ShippingRuleForm(Form):
    """One row of a tier's shipping: a destination and its fee (CSRF is the parent form's)."""

    destination = SelectField(_l("Destination"), default="", validate_choice=False)
    fee = StringField(_l("Shipping fee"), filters=[strip])


class TierForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=80)])
    description = TextAreaField(
        _l("What backers get"),
        filters=[strip],
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 4},
    )
    minimum = StringField(_l("Minimum pledge"), filters=[strip], validators=[InputRequired()])
    quantity_limit = WholeNumberField(
        _l("Limited quantity"),
        validators=[
            Optional(),
            NumberRange(
                1, MAX_QUANTITY, message=_l("Between 1 and %(max)s.", max=f"{MAX_QUANTITY:,}")
            ),
        ],
        description=_l("Leave empty for unlimited."),
    )
    estimated_delivery = MonthField(
        _l("Estimated delivery"),
        validators=[
            InputRequired(message=_l("Enter the month you expect to deliver, like 2027-03."))
        ],
    )
    ships = BooleanField(
        _l("This reward ships to backers"),
        description=_l("Leave unticked for a digital reward: nothing ships."),
    )
    destinations = FieldList(
        FormField(ShippingRuleForm),
        min_entries=domain.MAX_RULES,
        max_entries=domain.MAX_RULES,
        label=_l("Where it ships"),
    )
    submit = SubmitField(_l("Save tier"))

    def __init__(self, *args, currency: str, home: str | None = None, floor: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.floor = floor  # the least a tier may ask (MINIMUM_PLEDGE), in minor units
        if floor:
            self.minimum.description = gettext(
                "At least %(amount)s.",
                amount=money.format_money(floor, currency, locale=i18n_web.current()),
            )
        self.home = home  # the project's country, which "domestic" means
        choices = destination_choices()
        for row in self.destinations:
            row.form.destination.choices = choices

    def validate_minimum(self, field: StringField) -> None:
        try:
            self.minimum_minor = money.parse_amount(
                field.data, self.currency, locale=i18n_web.current()
            )
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None
        if self.minimum_minor < self.floor:
            raise ValidationError(
                gettext(
                    "A reward's minimum pledge is at least %(amount)s: below that, the card "
                    "network's fixed fee on the payment would be more than the platform's fee.",
                    amount=money.format_money(self.floor, self.currency, locale=i18n_web.current()),
                )
            )

    def validate_estimated_delivery(self, field: MonthField) -> None:
        today = clock.now().date()
        if field.data and field.data < date(today.year, today.month, 1):
            raise ValidationError(gettext("The delivery month cannot be in the past."))

    def validate_destinations(self, field: FieldList) -> None:
        """Each filled row: a known destination and a fee >= 0 in the project's currency;
        no destination twice; at least one when the reward ships. Digital: rows ignored."""
        self.shipping_rules: list[domain.Rule] = []
        if not self.ships.data:
            return
        bad = False
        for row in field:
            destination = (row.form.destination.data or "").strip()
            fee_text = row.form.fee.data or ""
            if not destination:
                if fee_text:
                    row.form.destination.errors.append(gettext("Choose where this fee ships to."))
                    bad = True
                continue
            if not domain.is_region(destination) and destination not in countries.codes():
                row.form.destination.errors.append(gettext("Choose a destination from the list."))
                bad = True
                continue
            if destination == domain.DOMESTIC and not self.home:
                row.form.destination.errors.append(
                    gettext("Set the project's country first: domestic shipping goes there.")
                )
                bad = True
                continue
            try:
                fee = money.parse_amount(
                    fee_text or "0", self.currency, allow_zero=True, locale=i18n_web.current()
                )
            except money.MoneyError as error:
                row.form.fee.errors.append(str(error))
                bad = True
                continue
            if any(rule.destination == destination for rule in self.shipping_rules):
                row.form.destination.errors.append(gettext("Each destination can be listed once."))
                bad = True
                continue
            self.shipping_rules.append(domain.Rule(destination, fee))
        if bad:
            raise ValidationError(gettext("Check the shipping destinations below."))
        if not self.shipping_rules:
            raise ValidationError(gettext("A reward that ships needs at least one destination."))

    def fill_rules(self, rules: tuple[domain.Rule, ...]) -> None:
        """Show a tier's rules in the rows (an edit page's first load)."""
        for row, rule in zip(self.destinations, rules, strict=False):
            row.form.destination.data = rule.destination
            row.form.fee.data = money.to_major_text(rule.fee, self.currency)

    def values(self) -> dict:
        """The tier's column values, from validated data."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "minimum_amount": self.minimum_minor,
            "quantity_limit": self.quantity_limit.data,
            "estimated_delivery": self.estimated_delivery.data,
            "shipping_rules": tuple(self.shipping_rules),
        }
