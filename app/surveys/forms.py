"""The creator's survey forms (the address setting, a question, send, lock) and the backer's
answer form's CSRF and country choice (its address fields and answers depend on the country
and the tier, and are read and checked in services)."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import one_line, strip
from app.i18n import gettext as plain_gettext
from app.pledges.forms import country_choices
from app.surveys import addresses
from app.surveys.domain import KIND_LABELS, MAX_OPTIONS, MIN_OPTIONS, QuestionKind
from app.surveys.models import OPTION_MAX, PROMPT_MAX


class AddressSettingForm(FlaskForm):
    asks_address = BooleanField(_l("Ask every backer for a shipping address"))
    submit = SubmitField(_l("Save"))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionForm(FlaskForm):
    kind = SelectField(
        _l("Kind of answer"),
        choices=[SelectChoice(k.value, _l(KIND_LABELS[k])) for k in QuestionKind],
        default=QuestionKind.LINE.value,
        validators=[InputRequired()],
    )
    prompt = StringField(
        _l("Question"),
        filters=[strip],
        validators=[DataRequired(), Length(max=PROMPT_MAX), one_line],
    )
    options = TextAreaField(
        _l("Options (for a choice: one per line, 2 to 10)"),
        filters=[strip],
        render_kw={"rows": 4},
    )
    tiers = CheckboxesField(
        _l("Only for backers of these tiers (none ticked: every backer)"), coerce=int, choices=[]
    )
    required = BooleanField(_l("An answer is required"))
    submit = SubmitField(_l("Add the question"))

    def option_list(self) -> list[str]:
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]

    def validate_options(self, field) -> None:
        if self.kind.data != QuestionKind.CHOICE.value:
            return
        found = self.option_list()
        if not MIN_OPTIONS <= len(found) <= MAX_OPTIONS:
            raise ValidationError(gettext("A choice has 2 to 10 options, one per line."))
        if len(set(found)) != len(found):
            raise ValidationError(gettext("Each option once."))
        if any(len(o) > OPTION_MAX for o in found):
            raise ValidationError(gettext("An option has at most 100 characters."))


class RemoveQuestionForm(FlaskForm):
    question_id = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Remove"))


class SendForm(FlaskForm):
    submit = SubmitField(_l("Send the survey to backers"))


class LockForm(FlaskForm):
    submit = SubmitField(_l("Lock the answers"))


class AnswerForm(FlaskForm):
    country = SelectField(_l("Country"), choices=[])
    update_fields = SubmitField(_l("Update fields"))
    submit = SubmitField(_l("Save my answers"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        known = addresses.known_countries()
        self.country.choices = [c for c in country_choices() if c.value in known or not c.value]

    def validate_country(self, field) -> None:
        if field.data and field.data not in addresses.known_countries():
            raise ValidationError(plain_gettext("Choose a country from the list."))
