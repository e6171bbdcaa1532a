"""Languages: the locales the site speaks, and gettext for code that may not import Flask.

Plain Python, so domain rules (``app/money.py``, ``*/domain.py``) can say their messages in
the reader's language too: ``gettext`` and ``ngettext`` here call Flask-Babel's once
``app.i18n.web.init_app`` has installed them, and fall back to the English source text
outside the app (the domain tests). Everything else may call Flask-Babel directly.

Catalogues: ``app/translations/<locale>/LC_MESSAGES/messages.po`` (``babel.cfg`` says what
is extracted; the README has the commands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

DEFAULT_LOCALE = "en"
# Each locale the site speaks, named in its own language (for the footer's switch).
LOCALES: dict[str, str] = {"en": "English", "zh_Hans_CN": "简体中文"}
# <html lang> and other BCP 47 places: "zh-Hans-CN", not Babel's "zh_Hans_CN".
HTML_LANG = {"en": "en", "zh_Hans_CN": "zh-Hans-CN"}
# Chinese written with simplified characters: these language tags all read zh_Hans_CN.
# Traditional Chinese (zh-TW, zh-HK, zh-MO, zh-Hant) is not offered as zh_Hans_CN.
SIMPLIFIED_CHINESE = {"zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg"}

# The languages a creator may write a project's own text in (title, blurb, story, tiers), as
# BCP 47 tags: pages mark that text with ``lang`` so that screen readers, fonts, hyphenation and
# translation tools read it right, whatever language the page around it is in.
TEXT_LANGUAGES = (
    "en", "zh-Hans", "zh-Hant", "ja", "ko", "fr", "de", "es", "it", "pt", "nl", "sv", "pl",
    "ru", "tr", "ar", "hi", "id", "vi", "th",
)  # fmt: skip
# A new project's text language when the creator's page language says nothing better.
TEXT_LANGUAGE_OF_LOCALE = {"en": "en", "zh_Hans_CN": "zh-Hans"}

_gettext: Callable[..., str] | None = None
_ngettext: Callable[..., str] | None = None


def install(gettext_function: Callable[..., str], ngettext_function: Callable[..., str]) -> None:
    """Route ``gettext``/``ngettext`` through the web layer's translations (Flask-Babel)."""
    global _gettext, _ngettext
    _gettext, _ngettext = gettext_function, ngettext_function


def gettext(message: str, **variables: object) -> str:
    """``message`` in the reader's language, with ``%(name)s`` variables filled in."""
    if _gettext is not None:
        return _gettext(message, **variables)
    return message % variables if variables else message


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """The singular or plural form for ``num`` (as ``%(num)d``), in the reader's language."""
    if _ngettext is not None:
        return _ngettext(singular, plural, num, **variables)
    return (singular if num == 1 else plural) % {"num": num, **variables}


def N_(message: str) -> str:
    """Marks a message for the catalogue; translated later, where it is shown."""
    return message


def locale_for_tag(tag: str) -> str | None:
    """The supported locale a language tag ("zh-CN", "en-GB", "zh_Hans_CN") asks for."""
    tag = tag.strip().replace("_", "-").lower()
    if tag in SIMPLIFIED_CHINESE:
        return "zh_Hans_CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def best_locale(tags: Iterable[str]) -> str | None:
    """The first supported locale among language tags in order of preference."""
    for tag in tags:
        found = locale_for_tag(tag)
        if found is not None:
            return found
    return None


def supported(locale: str | None) -> str | None:
    """``locale`` if the site speaks it, else None (a stale cookie, a removed language)."""
    return locale if locale in LOCALES else None
