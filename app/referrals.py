"""Where a visitor came from, remembered per project in the signed session until they pledge.

A visit to a project's page with ``?ref=<tag>`` (a tag its creator made) or from another site
(the Referer's host) is remembered for that project: the last such visit wins, for
``MEMORY_DAYS``, for at most ``MAX_PROJECTS`` projects (and a few hundred bytes, so the cookie
stays small). The pledge the visitor then starts records it (``pledges.ref_tag`` and
``pledges.referrer_host``). Only the host is kept, never a path or a query: no personal data.

This module is a leaf (Flask only): ``app.campaign`` owns the tags and writes the memory on a
project page visit, ``app.pledges`` reads it when a pledge starts, and neither imports the
other. Log in keeps it (``accounts.routes.start_session``), like the chosen language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import session

SESSION_KEY = "referrals"
MEMORY_DAYS = 30
MAX_PROJECTS = 20
MAX_BYTES = 1500  # the memory's share of the session cookie (browsers keep about 4 KB)
TAG_MAX = 40
HOST_MAX = 255
TAG_PATTERN = re.compile(r"[a-z0-9-]{1,40}")
HOST_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,253}[a-z0-9])?")


@dataclass(frozen=True)
class Source:
    """Where one pledge's backer came from: a creator's tag of the project, another site."""

    ref_tag: str | None = None
    referrer_host: str | None = None

    def __bool__(self) -> bool:
        return bool(self.ref_tag or self.referrer_host)


def normal_tag(raw: str | None) -> str | None:
    """A tag as typed or as found in a link, lowercased; None unless it is a tag's shape."""
    if not isinstance(raw, str):
        return None
    tag = raw.strip().lower()
    return tag if TAG_PATTERN.fullmatch(tag) else None


def host_of(referer: str | None, own_hosts: set[str]) -> str | None:
    """The referring page's host name (lowercased, no port, user or path), unless it is one
    of ours or not a web page's (an app's ``android-app://``, a malformed header)."""
    if not referer or len(referer) > 4096:
        return None
    try:
        parts = urlsplit(referer.strip())
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or len(host) > HOST_MAX:
        return None
    if not HOST_PATTERN.fullmatch(host) or host in own_hosts:
        return None
    return host


def _entries() -> dict[str, list]:
    found = session.get(SESSION_KEY)
    return found if isinstance(found, dict) else {}


def remember(project_id: int, source: Source, now: datetime) -> None:
    """This visit's source for the project, replacing any earlier one (last touch wins)."""
    if not source:
        return
    entries = {
        key: value
        for key, value in _entries().items()
        if isinstance(value, list) and len(value) == 3 and isinstance(value[2], int)
    }
    entries[str(project_id)] = [source.ref_tag, source.referrer_host, int(now.timestamp())]
    oldest_first = sorted(entries, key=lambda key: entries[key][2])
    while len(entries) > MAX_PROJECTS or len(json.dumps(entries)) > MAX_BYTES:
        del entries[oldest_first.pop(0)]
    session[SESSION_KEY] = entries


def recalled(project_id: int, now: datetime) -> Source | None:
    """The source remembered for the project, if it is still recent; else None."""
    entry = _entries().get(str(project_id))
    if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[2], int):
        return None
    if now - datetime.fromtimestamp(entry[2], now.tzinfo) > timedelta(days=MEMORY_DAYS):
        return None
    tag = entry[0] if isinstance(entry[0], str) and TAG_PATTERN.fullmatch(entry[0]) else None
    host = entry[1] if isinstance(entry[1], str) and HOST_PATTERN.fullmatch(entry[1]) else None
    source = Source(tag, host)
    return source or None


def carried() -> dict | None:
    """The memory as it is, to keep across a fresh session (log in)."""
    return _entries() or None
