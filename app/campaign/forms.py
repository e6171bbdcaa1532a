"""The dashboard's forms: a referral tag to add, one to remove."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from app import referrals
from app.campaign.models import TAG_LABEL_MAX
from app.forms import one_line, strip


def lower(value: str | None) -> str | None:
    return value.strip().lower() if isinstance(value, str) else value


class TagForm(FlaskForm):
    tag = StringField(
        _l("Tag"),
        filters=[lower],
        validators=[
            InputRequired(message=_l("Give the tag its name, as it will appear in the link.")),
            Length(max=referrals.TAG_MAX),
            Regexp(
                referrals.TAG_PATTERN.pattern + r"\Z",
                message=_l("Use only letters a to z, digits and hyphens, up to 40 of them."),
            ),
        ],
        description=_l("Letters a to z, digits and hyphens, e.g. spring-newsletter."),
        render_kw={"maxlength": referrals.TAG_MAX, "autocomplete": "off"},
    )
    label = StringField(
        _l("Label (optional)"),
        filters=[strip],
        validators=[Length(max=TAG_LABEL_MAX), one_line],
        description=_l("For you: where you will share the link."),
        render_kw={"maxlength": TAG_LABEL_MAX},
    )
    submit = SubmitField(_l("Add the tag"))


class RemoveTagForm(FlaskForm):
    submit = SubmitField(_l("Remove the tag"))
