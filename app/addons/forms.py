"""The add-on form: the tier form's title, description, limit and shipping, with a price."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import InputRequired

from app.forms import strip
from app.rewards.forms import TierForm


class AddonForm(TierForm):
    minimum = StringField(_l("Price"), filters=[strip], validators=[InputRequired()])
    estimated_delivery = None  # delivered with the pledge's reward
    ships = BooleanField(
        _l("This add-on ships to backers"),
        description=_l("Leave unticked for a digital add-on: nothing ships."),
    )
    submit = SubmitField(_l("Save add-on"))

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "price": self.minimum_minor,
            "quantity_limit": self.quantity_limit.data,
            "shipping_rules": tuple(self.shipping_rules),
        }
