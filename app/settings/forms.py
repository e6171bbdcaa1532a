"""Settings forms; CSRF comes from FlaskForm."""

from flask_wtf import FlaskForm


class EndSessionsForm(FlaskForm):
    """An empty form: ending a session is a POST with a CSRF token."""
