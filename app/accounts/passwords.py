"""What a new password must be: long enough (``PASSWORD_MIN_LENGTH``) and not a common or
easily guessed one. The second check is zxcvbn (Dropbox's estimator, as the ``zxcvbn``
package): its dictionaries of common passwords, words and names, keyboard patterns, dates
and the person's own e-mail and name; a password it guesses in under a million tries is
refused."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext, ngettext
from zxcvbn import zxcvbn

ZXCVBN_MAX_LENGTH = 72  # the estimator refuses longer input; the start is what it judges
WEAKEST_SCORE_ALLOWED = 2  # zxcvbn's 0..4: 2 is "somewhat guessable" (10^6 to 10^8 tries)


def problem(password: str, *known: str) -> str | None:
    """Why ``password`` may not be used (a message fit to show), or None. ``known``: words
    about the person (their e-mail, name) that make a password easy to guess."""
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        return ngettext(
            "Use at least %(num)d character.", "Use at least %(num)d characters.", min_length
        )
    inputs = [word for text in known if text for word in text.replace("@", " ").split()]
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[*inputs, "backstage"])
    if result["score"] < WEAKEST_SCORE_ALLOWED:
        return gettext(
            "This password is too common or too easy to guess. Use a longer one: a few "
            "unrelated words work well."
        )
    return None
