"""A small lint for templates: user-visible words must go through gettext.

Text between tags and the attributes people read (alt, title, placeholder, aria-label) may
hold no letters outside ``{{ _(...) }}``/``{{ ngettext(...) }}`` and ``{% trans %}`` blocks:
whatever Jinja computes is replaced by a mark before the HTML is looked at, so
``{{ project.title }}`` (the creator's own words) passes and ``Back this project`` does not.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from jinja2 import Environment

READ_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")
LETTERS = re.compile(r"[^\W\d_]")
MARK = "\x00"  # stands for anything Jinja writes
_env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)  # only lexed


def words_outside_gettext(source: str) -> list[tuple[int, str]]:
    """(line, text) of every piece of user-visible text a template writes untranslated."""
    pieces: list[tuple[int, str]] = []
    in_trans = False
    expect_block_name = False
    for line, kind, value in _env.lex(source):
        if kind == "whitespace":
            continue
        if kind == "block_begin":
            expect_block_name = True
            continue
        if expect_block_name and kind == "name":
            in_trans = {"trans": True, "endtrans": False}.get(value, in_trans)
        expect_block_name = False
        if kind == "data" and not in_trans:
            pieces.append((line, value))
        elif kind in ("variable_begin", "block_begin") or (kind == "data" and in_trans):
            pieces.append((line, MARK))
    finder = _Finder()
    for line, text in pieces:
        finder.line = line
        finder.feed(text)
    finder.close()
    return finder.found


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.line = 1
        self.found: list[tuple[int, str]] = []
        self._hidden = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and LETTERS.search(value.replace(MARK, "")):
                self.found.append((self.line, f'{name}="{value}"'))

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        text = data.replace(MARK, " ").strip()
        if text and not self._hidden and LETTERS.search(text):
            self.found.append((self.line, " ".join(text.split())))
