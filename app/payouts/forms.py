"""The one payouts form: connect (or continue onboarding) a Stripe account."""

from __future__ import annotations

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields import SelectChoice

from app.i18n import web as i18n_web
from app.payouts.services import COUNTRIES, DEFAULT_COUNTRY


class ConnectForm(FlaskForm):
    country = SelectField(
        _l("Country of your bank account"),
        choices=[SelectChoice(code, name) for code, name in COUNTRIES.items()],
        default=DEFAULT_COUNTRY,
        description=_l("Stripe asks for the rest (identity, bank account) on its own pages."),
    )
    submit = SubmitField(_l("Connect with Stripe"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = Locale.parse(i18n_web.current()).territories  # in the reader's language
        self.country.choices = [
            SelectChoice(code, names.get(code, name)) for code, name in COUNTRIES.items()
        ]
