"""Account forms; CSRF comes from FlaskForm."""

from flask_babel import lazy_gettext as _l
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
from app.accounts import passwords
from app.forms import one_line, strip


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
        validators=[InputRequired(), Length(min=2, max=80), one_line],
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
        problem = passwords.problem(field.data or "", self.email.data, self.display_name.data)
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip], validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
        description=_l("The address of your account: we send it a link to choose a new password."),
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send the link"))


class NewPasswordForm(FlaskForm):
    """A new password, checked as at sign-up; ``known`` holds the person's e-mail and name."""

    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(),
            EqualTo("password", message=_l("The passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save the new password"))

    def __init__(self, *args, known: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.known = known

    def validate_password(self, field: PasswordField) -> None:
        problem = passwords.problem(field.data or "", *self.known)
        if problem:
            raise ValidationError(problem)


class ConfirmForm(FlaskForm):
    """An empty form: following a mailed link is confirmed with a POST (a mail scanner that
    opens the link changes nothing)."""


class ResendVerificationForm(FlaskForm):
    """An empty form: "send the link again" is a POST with a CSRF token."""


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token."""


class LanguageForm(FlaskForm):
    """The footer's language switch: the locale chosen and the page to go back to."""

    locale = RadioField(
        choices=[SelectChoice(code, name) for code, name in i18n.LOCALES.items()],
        validators=[InputRequired()],
    )
    next = HiddenField()
