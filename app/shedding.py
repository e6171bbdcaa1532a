"""Turning away requests that waited too long in the queue, before any work is done on them.

At a hot launch more backers arrive than the workers can serve, and requests queue in front of
them. A request that waited longer than the backer will (a browser gives up after some
seconds) is worse than useless when it is finally served: its pledge reserves a reward place
that nobody will pay for, until the reservation expires, and the work delays every request
behind it. The reverse proxy stamps each request with the time it arrived (nginx:
``proxy_set_header X-Request-Start "t=${msec}";``); a request whose stamp is older than
``QUEUE_TIMEOUT_SECONDS`` gets a small 503 page with ``Retry-After`` at once, from this WSGI
middleware, so the app, the database and Stripe never see it. Without the header (no proxy,
tests) nothing changes. A client that forges an old stamp only turns away its own request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from html import escape
from pathlib import Path

from babel.support import Translations

from app.i18n import DEFAULT_LOCALE, HTML_LANG, LOCALES, best_locale

RETRY_AFTER_SECONDS = 5
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def busy_page(locale: str) -> bytes:
    """The page in ``locale``, from the catalogue: built once, as no request may cost more."""
    found = Translations.load(str(TRANSLATIONS), [locale]) if locale != DEFAULT_LOCALE else None
    _ = found.gettext if found is not None else (lambda text: text)
    title = _("Very busy")
    heading = _("We are very busy right now")
    body = _(
        "So many backers are here at once that your request waited too long, so we did not "
        "act on it. If you were starting a pledge, nothing was reserved and nothing was "
        "charged. If you had just paid, your payment is safe: it shows on your pledge within "
        "a few minutes."
    )
    again = _("Please try again in a few seconds.")
    return (
        f'<!doctype html>\n<html lang="{HTML_LANG[locale]}"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - Backstage</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n'
        f"<body><main><h1>{escape(heading)}</h1>\n<p>{escape(body)}</p>\n"
        f"<p>{escape(again)}</p></main></body></html>\n"
    ).encode()


# In the language the browser asks for (there is no session or account to read here).
BUSY_PAGES = {locale: busy_page(locale) for locale in LOCALES}
BUSY_PAGE = BUSY_PAGES[DEFAULT_LOCALE]


def headers(page: bytes) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(page))),
        ("Retry-After", str(RETRY_AFTER_SECONDS)),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Vary", "Accept-Language"),
    ]


def page_for(accept_language: str | None) -> bytes:
    """The busy page in the first language of the header that the site speaks."""
    tags = [part.split(";")[0] for part in (accept_language or "").split(",")]
    return BUSY_PAGES[best_locale(tags) or DEFAULT_LOCALE]


def queued_for(stamp: str | None, now: float) -> float | None:
    """Seconds since the proxy got the request, from ``X-Request-Start``; None if unknown.

    Accepts ``t=`` or a bare number, in seconds (nginx's ``${msec}``), milliseconds or
    microseconds since the epoch, as proxies differ.
    """
    if not stamp:
        return None
    text = stamp.strip().removeprefix("t=")
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    if value > 1e14:  # microseconds
        value /= 1e6
    elif value > 1e11:  # milliseconds
        value /= 1e3
    return max(0.0, now - value)


class QueueTimeout:
    """WSGI middleware: a 503 for a request that waited more than ``max_wait`` seconds."""

    def __init__(self, app: Callable, max_wait: float, clock: Callable[[], float] = time.time):
        self.app = app
        self.max_wait = max_wait
        self.clock = clock

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        waited = queued_for(environ.get("HTTP_X_REQUEST_START"), self.clock())
        if waited is None or waited <= self.max_wait:
            return self.app(environ, start_response)
        page = page_for(environ.get("HTTP_ACCEPT_LANGUAGE"))
        start_response("503 Service Unavailable", headers(page))
        return [page]
