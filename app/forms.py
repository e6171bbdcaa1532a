"""Form helpers shared by the feature packages."""

from __future__ import annotations

from wtforms import IntegerField


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
