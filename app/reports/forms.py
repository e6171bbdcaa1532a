"""The report form and the moderators' decision form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import strip
from app.reports.models import DETAILS_MAX, ReportReason


class ReportForm(FlaskForm):
    reason = RadioField(_l("What is wrong?"), validators=[InputRequired()])
    details = TextAreaField(
        _l("Details for the moderators (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=DETAILS_MAX)],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Send the report"))

    def __init__(self, *args, reasons=tuple(ReportReason), **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [(r.value, r.label) for r in reasons]


class DecisionForm(FlaskForm):
    note = TextAreaField(
        _l("Note for the reporters and the audit log"),
        filters=[strip],
        validators=[DataRequired(), Length(max=2000)],
        render_kw={"rows": 2},
    )
