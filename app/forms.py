"""Form helpers shared by the feature packages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import ValidationError


def strip(value: str | None) -> str | None:
    """A WTForms filter: surrounding white space is never part of what a user meant."""
    return value.strip() if isinstance(value, str) else value


class WholeNumberField(IntegerField):
    """An IntegerField that refuses numbers of more than 18 digits as not a number, before its
    validators compare them with floats (``NumberRange`` raises OverflowError on 10**309)."""

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > 18:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


def one_line(form, field) -> None:
    """A name or a place: no line breaks, tabs or other control characters."""
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError(_l("Write it on one line, without control characters."))
