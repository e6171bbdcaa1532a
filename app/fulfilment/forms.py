"""The creator's forms (ship one, ship a tier, upload a CSV) and the backer's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import one_line, strip
from app.fulfilment.domain import PROBLEM_MAX, TRACKING_MAX


class ShipForm(FlaskForm):
    tracking_number = StringField(
        _l("Tracking number (optional)"),
        filters=[strip],
        validators=[Length(max=TRACKING_MAX), one_line],
    )
    submit = SubmitField(_l("Mark as shipped"))


class ShipTierForm(FlaskForm):
    submit = SubmitField(_l("Mark every pledge of this reward as shipped"))


class UploadForm(FlaskForm):
    tracking = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Choose a CSV file."))],
        description=_l(
            "Two columns: the pledge id and the tracking number (it may be empty); a header "
            "line is optional. Nothing is marked unless every line is right."
        ),
    )
    submit = SubmitField(_l("Upload and mark as shipped"))


class ReceivedForm(FlaskForm):
    submit = SubmitField(_l("I received it"))


class ProblemForm(FlaskForm):
    problem = TextAreaField(
        _l("What went wrong?"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Say what went wrong.")),
            Length(max=PROBLEM_MAX),
        ],
        description=_l("The creator reads this and is e-mailed about it."),
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Report the problem"))
