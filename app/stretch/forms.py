"""The stretch goal form: an amount, a one-line title and a description."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app import money
from app.forms import one_line, strip
from app.i18n import web as i18n_web
from app.stretch.models import DESCRIPTION_MAX, TITLE_MAX


class StretchGoalForm(FlaskForm):
    amount = StringField(
        _l("Amount"),
        filters=[strip],
        validators=[InputRequired()],
        description=_l("When the pledged total reaches this amount, the goal is reached."),
    )
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[DataRequired(), Length(max=TITLE_MAX), one_line],
    )
    description = TextAreaField(
        _l("What backers get when it is reached"),
        filters=[strip],
        validators=[Optional(), Length(max=DESCRIPTION_MAX)],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save stretch goal"))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.amount_minor: int | None = None

    def validate_amount(self, field: StringField) -> None:
        try:
            self.amount_minor = money.parse_amount(
                field.data, self.currency, locale=i18n_web.current()
            )
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None

    def values(self) -> dict:
        """The goal's column values, from validated data."""
        return {
            "amount": self.amount_minor,
            "title": self.title.data,
            "description": self.description.data or "",
        }
