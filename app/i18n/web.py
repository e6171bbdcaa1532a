"""Flask-Babel wiring: which locale a request is read in, and what templates get for it.

The locale is the signed-in user's saved choice, else the visitor's choice kept in the
session (the footer's switch), else the best match of the Accept-Language header, else
English.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext, ngettext
from flask_login import current_user

from app import i18n

SESSION_KEY = "locale"
babel = Babel()


def select_locale() -> str:
    if not has_request_context():
        return i18n.DEFAULT_LOCALE  # a CLI command or job: English unless forced
    saved = i18n.supported(getattr(_known_user(), "locale", None))
    if saved:
        return saved
    chosen = i18n.supported(session.get(SESSION_KEY))
    if chosen:
        return chosen
    asked = [tag for tag, _quality in request.accept_languages]
    return i18n.best_locale(asked) or i18n.DEFAULT_LOCALE


def _known_user():
    """The signed-in user if loaded or loadable; error pages have replaced it with a stand-in
    that needs no database (app.errors.handlers), which has no saved locale."""
    try:
        user = current_user._get_current_object()
    except Exception:  # the database is down: the header decides
        return None
    return user if getattr(user, "is_authenticated", False) else None


def current() -> str:
    """The locale of this request (or of a ``force_locale`` block), as a catalogue name."""
    locale = get_locale()
    return str(locale) if locale is not None else i18n.DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    i18n.install(gettext, ngettext)

    @app.context_processor
    def language_context() -> dict:
        locale = current()
        return {
            "current_locale": locale,
            "html_lang": i18n.HTML_LANG.get(locale, "en"),
            "languages": i18n.LOCALES,
            "html_langs": i18n.HTML_LANG,
        }

    @app.after_request
    def vary_on_language(response):
        if has_request_context() and current_app.extensions.get("babel"):
            response.vary.add("Accept-Language")
        return response
