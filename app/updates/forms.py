"""The update form (write and edit) and the removal form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import strip
from app.updates.models import BODY_MAX, REASON_MAX, TITLE_MAX

PUBLIC, BACKERS = "public", "backers"


class UpdateForm(FlaskForm):
    title = StringField(
        _l("Title"), filters=[strip], validators=[DataRequired(), Length(max=TITLE_MAX)]
    )
    body = TextAreaField(
        _l("Update"),
        filters=[strip],
        validators=[DataRequired(), Length(max=BODY_MAX)],
        description=_l(
            "Markdown: **bold**, _italic_, [links](https://example.com), lists, headings."
        ),
        render_kw={"rows": 12},
    )
    audience = SelectField(
        _l("Who can read it"),
        choices=[
            SelectChoice(PUBLIC, _l("Everyone (backers and followers are e-mailed)")),
            SelectChoice(BACKERS, _l("Backers only (others see the title)")),
        ],
        default=PUBLIC,
        validators=[InputRequired()],
    )
    image = FileField(_l("Image (optional)"), description=_l("PNG, JPEG or WebP, up to 5 MB."))
    remove_image = BooleanField(_l("Remove the image"))
    submit = SubmitField(_l("Publish"))

    @property
    def public(self) -> bool:
        return self.audience.data == PUBLIC


class RemoveForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are you removing it?"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Give a reason: moderators will see it.")),
            Length(max=REASON_MAX),
        ],
        description=_l("Backers see only that the update was removed; moderators see why."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Remove the update"))


class EditUpdateForm(UpdateForm):
    submit = SubmitField(_l("Save changes"))
