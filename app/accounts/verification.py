"""Pages an account reaches only once its e-mail address is proved: a new project, payout
set-up, a change of e-mail. Anything else (browsing, backing) works unverified."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import render_template
from flask_login import current_user

from app.i18n import N_, gettext

NEW_PROJECT = N_("You can start a project once your e-mail address is confirmed.")
PAYOUTS = N_("You can set up payouts once your e-mail address is confirmed.")
EMAIL_CHANGE = N_("You can change your e-mail address once the current one is confirmed.")


def verified_required(reason: str) -> Callable:
    """Under ``login_required``: an unverified account gets a 403 page saying ``reason`` (an
    N_ string) with "send the link again"; nothing else runs."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.is_authenticated and not current_user.is_verified:
                page = render_template("accounts/verify_first.html", what=gettext(reason))
                return page, 403
            return view(*args, **kwargs)

        return wrapped

    return decorate
