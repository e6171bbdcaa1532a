"""Settings forms; CSRF comes from FlaskForm."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from app import i18n
from app.accounts.forms import NewPasswordForm
from app.forms import one_line, strip
from app.projects.forms import timezone_choices

BIO_MAX_LENGTH = 500
NOT_A_WEB_ADDRESS = _l("Give a web address that starts with https:// or http://.")


class EndSessionsForm(FlaskForm):
    """An empty form: ending a session is a POST with a CSRF token."""


def no_control_characters(form, field) -> None:
    if field.data and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in field.data):
        raise ValidationError(_l("Remove the control characters."))


def web_address(form, field) -> None:
    """An http or https address with a host, nothing else (no javascript:, data:, ftp:)."""
    value = field.data or ""
    if not value:
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError(NOT_A_WEB_ADDRESS) from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() or ord(ch) < 32 for ch in value)
    ):
        raise ValidationError(NOT_A_WEB_ADDRESS)


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        filters=[strip],
        validators=[InputRequired(), Length(min=2, max=80), one_line],
        description=_l("Shown on your projects, pledges and public profile."),
    )
    avatar = FileField(
        _l("Picture"), description=_l("PNG, JPEG or WebP, up to 5 MB; square looks best.")
    )
    remove_avatar = BooleanField(_l("Remove my picture"))
    bio = TextAreaField(
        _l("About you"),
        filters=[strip],
        validators=[Optional(), Length(max=BIO_MAX_LENGTH), no_control_characters],
        description=_l("Plain text, at most 500 characters."),
        render_kw={"rows": 4, "maxlength": BIO_MAX_LENGTH},
    )
    location = StringField(
        _l("Location"),
        filters=[strip],
        validators=[Optional(), Length(max=80), one_line],
        description=_l("A city or a country, if you want to say."),
    )
    website = StringField(
        _l("Website"),
        filters=[strip],
        validators=[Optional(), Length(max=200), web_address],
        description=_l("Starts with https:// or http://."),
        render_kw={"inputmode": "url", "autocomplete": "url"},
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in i18n.LOCALES.items()],
        validators=[InputRequired()],
        description=_l("Of the pages and of the e-mails we send you."),
    )
    timezone = SelectField(
        _l("Time zone"),
        validators=[InputRequired()],
        description=_l("Times on the site and in e-mails are given in it."),
    )
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class NotificationsForm(FlaskForm):
    """One checkbox per Topic, added by ``notifications_form``."""

    submit = SubmitField(_l("Save preferences"))


def notifications_form(topics, wanted: dict, **kwargs) -> NotificationsForm:
    """The form with a ``topic_<name>`` checkbox for each topic, ticked when it is wanted."""

    class Form(NotificationsForm):
        pass

    for topic in topics:
        setattr(Form, f"topic_{topic.value}", BooleanField(topic.label, default=wanted[topic]))
    return Form(**kwargs)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    confirm = BooleanField(
        _l("I understand that my account is deleted for good and cannot be restored."),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Delete my account"))


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Change password"))

    field_order = ("current_password", "password", "confirm", "submit")

    def __iter__(self):
        """The current password first, as people expect to read the form."""
        return iter([self[name] for name in ("csrf_token", *self.field_order) if name in self])


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        _l("New e-mail address"),
        filters=[strip],
        validators=[InputRequired(), Email(), Length(max=254)],
        description=_l("We send a link to it: the address changes when you open that link."),
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Send the link"))
