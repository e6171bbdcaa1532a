"""Account forms; CSRF comes from FlaskForm."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from app.forms import strip


class RegisterForm(FlaskForm):
    email = EmailField(
        "Email", filters=[strip], validators=[InputRequired(), Email(), Length(max=254)]
    )
    display_name = StringField(
        "Display name",
        filters=[strip],
        validators=[InputRequired(), Length(min=2, max=80)],
        description="Shown on your projects and pledges.",
    )
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)])
    confirm = PasswordField(
        "Repeat password",
        validators=[InputRequired(), EqualTo("password", message="The passwords do not match.")],
    )
    submit = SubmitField("Create account")

    def validate_password(self, field: PasswordField) -> None:
        min_length = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < min_length:
            raise ValidationError(f"Use at least {min_length} characters.")


class LoginForm(FlaskForm):
    email = EmailField("Email", filters=[strip], validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)])
    remember = BooleanField("Remember me")
    submit = SubmitField("Log in")


class LogoutForm(FlaskForm):
    """An empty form: logging out is a POST with a CSRF token."""
