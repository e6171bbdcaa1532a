"""The one payouts form: connect (or continue onboarding) a Stripe account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields import SelectChoice

from app.payouts.services import COUNTRIES, DEFAULT_COUNTRY


class ConnectForm(FlaskForm):
    country = SelectField(
        "Country of your bank account",
        choices=[SelectChoice(code, name) for code, name in COUNTRIES.items()],
        default=DEFAULT_COUNTRY,
        description="Stripe asks for the rest (identity, bank account) on its own pages.",
    )
    submit = SubmitField("Connect with Stripe")
