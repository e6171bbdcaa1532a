"""Project forms. Money fields are text parsed by app.money, never floats."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from zoneinfo import available_timezones

from babel import Locale
from babel.numbers import get_currency_name
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    validators,
)
from wtforms.fields import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from app import i18n, money
from app.forms import WholeNumberField, strip
from app.i18n import countries
from app.i18n import web as i18n_web
from app.projects.domain import MAX_DURATION_DAYS, MIN_DURATION_DAYS


class NumberRange(validators.NumberRange):
    """WTForms' NumberRange, also for whole numbers too large for a float: its own check
    calls math.isnan, which raises OverflowError (a 500) on, say, 400 nines."""

    def __call__(self, form, field):
        data = field.data
        if isinstance(data, int) and not (
            (self.min is None or data >= self.min) and (self.max is None or data <= self.max)
        ):
            raise ValidationError(self.message or field.gettext("Number out of range."))
        super().__call__(form, field)


@cache
def timezone_choices() -> list[SelectChoice]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [SelectChoice("UTC"), *[SelectChoice(z, z.replace("_", " ")) for z in zones]]


class LiveProjectForm(FlaskForm):
    """What a creator may still change once the project is live."""

    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=80)])
    blurb = StringField(
        _l("Short blurb"),
        filters=[strip],
        validators=[Optional(), Length(max=160)],
        description=_l("One or two sentences shown on project cards."),
    )
    story = TextAreaField(
        _l("Story"),
        validators=[Optional(), Length(max=50_000)],
        description=_l(
            "Markdown: **bold**, _italic_, [links](https://example.com), lists, headings."
        ),
        render_kw={"rows": 12},
    )
    cover = FileField(
        _l("Cover image"), description=_l("PNG, JPEG or WebP, up to 5 MB; 16:9 looks best.")
    )
    submit = SubmitField(_l("Save"))


class ProjectForm(LiveProjectForm):
    """A draft: everything, including what is fixed once the project goes live."""

    category_id = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    currency = SelectField(
        _l("Currency"),
        choices=[SelectChoice(code, code) for code in money.CURRENCIES],  # named in __init__
        validators=[InputRequired()],
    )
    goal = StringField(
        _l("Goal"),
        filters=[strip],
        validators=[InputRequired()],
        description=_l("All or nothing: backers are charged only if you reach it."),
    )
    duration_days = WholeNumberField(
        _l("Duration in days"),
        default=30,
        validators=[
            InputRequired(message=_l("Enter a whole number of days.")),
            NumberRange(
                MIN_DURATION_DAYS,
                MAX_DURATION_DAYS,
                message=_l("The duration must be 1 to 60 days."),
            ),
        ],
        description=_l("The deadline is fixed when you launch: launch time plus this many days."),
    )
    creator_timezone = SelectField(
        _l("Your time zone"), default="UTC", validators=[InputRequired()]
    )
    text_language = SelectField(
        _l("Language of your project's text"),
        validators=[DataRequired()],  # a form posted without it keeps the project's or the reader's
        description=_l(
            "Your title, blurb, story and rewards are shown as you write them, never "
            "translated; pages mark them with this language so browsers and screen readers "
            "read them right."
        ),
    )
    country = SelectField(
        _l("Country the project is based in"),
        default="",
        validate_choice=False,
        description=_l("Rewards with domestic shipping ship to this country."),
    )
    submit = SubmitField(_l("Save"))  # declared again so it comes after the fields above

    def __init__(self, *args, category_choices: list[SelectChoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.category_id.choices = category_choices
        locale = i18n_web.current()
        self.currency.choices = [
            SelectChoice(code, f"{code} · {get_currency_name(code, locale=locale)}")
            for code in money.CURRENCIES
        ]
        self.creator_timezone.choices = timezone_choices()
        self.text_language.choices = text_language_choices(locale)
        self.country.choices = [
            SelectChoice("", gettext("Not set")),
            *(SelectChoice(code, name) for code, name in countries.named(locale)),
        ]
        if not self.text_language.data:  # a new project: the language the creator reads
            self.text_language.data = i18n.TEXT_LANGUAGE_OF_LOCALE.get(locale, "en")

    def validate_country(self, field: SelectField) -> None:
        if field.data and field.data not in countries.codes():
            raise ValidationError(gettext("Choose a country from the list."))

    def validate_goal(self, field: StringField) -> None:
        if self.currency.data not in money.CURRENCIES:
            return  # the currency field reports its own error
        try:
            self.goal_minor = money.parse_amount(
                field.data, self.currency.data, locale=i18n_web.current()
            )
        except money.MoneyError as error:
            raise ValidationError(str(error)) from None


class ReasonForm(FlaskForm):
    """A decision that must say why."""

    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Give a reason: the creator will see it.")),
            Length(max=2000),
        ],
        render_kw={"rows": 3},
    )


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


LAUNCH_ON_MAX_DAYS = 365


class LaunchDateForm(FlaskForm):
    """The day an approved project's creator plans to launch it; empty: not announced."""

    launch_on = DateField(_l("Planned launch date"), validators=[Optional()])
    submit = SubmitField(_l("Save the date"))

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today  # in the creator's zone

    def validate_launch_on(self, field: DateField) -> None:
        if field.data and field.data < self.today:
            raise ValidationError(_l("The launch date cannot be in the past."))
        if field.data and field.data > self.today + timedelta(days=LAUNCH_ON_MAX_DAYS):
            raise ValidationError(_l("Choose a date within a year from today."))


def text_language_choices(locale: str) -> list[SelectChoice]:
    """Each language a project may be written in, named in its own words and the reader's."""
    choices = []
    for tag in i18n.TEXT_LANGUAGES:
        language = Locale.parse(tag, sep="-")
        own, readers = language.get_display_name(language), language.get_display_name(locale)
        label = own if own == readers else f"{own} · {readers}"
        choices.append(SelectChoice(tag, label))
    return choices
