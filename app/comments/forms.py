"""The comment form (a comment or a reply), the edit form and the hide form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.comments.models import BODY_MAX, REASON_MAX
from app.forms import WholeNumberField, strip


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        filters=[strip],
        validators=[DataRequired(), Length(max=BODY_MAX)],
        render_kw={"rows": 3},
    )
    # The comment a reply answers; none for a new comment.
    parent_id = WholeNumberField(
        widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    submit = SubmitField(_l("Post comment"))


class EditForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        filters=[strip],
        validators=[DataRequired(), Length(max=BODY_MAX)],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save"))


class HideForm(FlaskForm):
    reason = TextAreaField(
        _l("Why hide it? Moderators read this."),
        filters=[strip],
        validators=[DataRequired(), Length(max=REASON_MAX)],
        render_kw={"rows": 2},
    )
    submit = SubmitField(_l("Hide the comment"))
