"""The reward tier form."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, MonthField, StringField, SubmitField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from app import clock, money
from app.forms import WholeNumberField, strip
from app.i18n import web as i18n_web
from app.projects.forms import NumberRange  # safe for integers too large for a float

MAX_QUANTITY = 1_000_000


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
    ships = BooleanField(_l("This reward ships to backers"))
    shipping_fee = StringField(
        _l("Shipping fee"),
        filters=[strip],
        description=_l("Added to the pledge; 0 for free shipping."),
    )
    submit = SubmitField(_l("Save tier"))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def validate_minimum(self, field: StringField) -> None:
        try:
            self.minimum_minor = money.parse_amount(
                field.data, self.currency, locale=i18n_web.current()
            )
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None

    def validate_estimated_delivery(self, field: MonthField) -> None:
        today = clock.now().date()
        if field.data and field.data < date(today.year, today.month, 1):
            raise ValidationError(gettext("The delivery month cannot be in the past."))

    def validate_shipping_fee(self, field: StringField) -> None:
        self.shipping_minor = None
        if not self.ships.data:
            return
        try:
            self.shipping_minor = money.parse_amount(
                field.data or "0", self.currency, allow_zero=True, locale=i18n_web.current()
            )
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None

    def values(self) -> dict:
        """The tier's column values, from validated data."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "minimum_amount": self.minimum_minor,
            "quantity_limit": self.quantity_limit.data,
            "estimated_delivery": self.estimated_delivery.data,
            "shipping_fee": self.shipping_minor,
        }
