"""Account forms; CSRF comes from FlaskForm."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    StringField,
    SubmitField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from app import i18n
from app.forms import strip


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            InputRequired(),
            Email(),
            Length(max=254),
        ],
    )
    display_name = StringField(
        _l("Display name"),
        filters=[strip],
        validators=[InputRequired(), Length(min=2, max=80)],
        description=_l("Shown on your projects and pledges."),
    )
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords do not match.")),
        ],
    )
    submit = SubmitField(_l("Create account"))

    def validate_password(self, field: PasswordField) -> None:
        min_length = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < min_length:
            raise ValidationError(
                ngettext(
                    "Use at least %(num)d character.",
                    "Use at least %(num)d characters.",
                    min_length,
                )
            )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip], validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token."""


class LanguageForm(FlaskForm):
    """The footer's language switch: the locale chosen and the page to go back to."""

    locale = RadioField(
        choices=[SelectChoice(code, name) for code, name in i18n.LOCALES.items()],
        validators=[InputRequired()],
    )
    next = HiddenField()
