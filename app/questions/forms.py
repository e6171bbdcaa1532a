"""The FAQ entry form, the ask form and the answer form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import strip
from app.questions.models import ANSWER_MAX, ASK_MAX, QUESTION_MAX


class FaqEntryForm(FlaskForm):
    question = StringField(
        _l("Question"), filters=[strip], validators=[DataRequired(), Length(max=QUESTION_MAX)]
    )
    answer = TextAreaField(
        _l("Answer"),
        filters=[strip],
        validators=[DataRequired(), Length(max=ANSWER_MAX)],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save"))


class AskForm(FlaskForm):
    body = TextAreaField(
        _l("Your question"),
        filters=[strip],
        validators=[DataRequired(), Length(max=ASK_MAX)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Send question"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer"),
        filters=[strip],
        validators=[DataRequired(), Length(max=ANSWER_MAX)],
        render_kw={"rows": 3},
    )
    publish = BooleanField(_l("Also publish it in the FAQ"))
    faq_question = StringField(
        _l("The question as the FAQ shows it"),
        filters=[strip],
        validators=[Optional(), Length(max=QUESTION_MAX)],
    )
    submit = SubmitField(_l("Send answer"))
