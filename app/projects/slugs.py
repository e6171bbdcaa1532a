"""The readable part of a project's URL: ``/projects/123-copperleaf-lamp``.

Plain Python. The slug is computed from the title every time (nothing is stored): the id
in front is what finds the project, so a renamed project's old links still work and are
sent on to the new slug.
"""

from __future__ import annotations

import unicodedata

from slugify import slugify

MAX_SLUG_LENGTH = 60
# Han, kana, Hangul and everything after them (emoji included) start at U+2E80. A Chinese
# title's pinyin by transliteration reads polyphonic characters wrong (叶 as "xie"), which
# looks worse than no slug at all: such characters are left out, and a title of nothing
# else gives the plain /projects/123.
FIRST_LEFT_OUT = 0x2E80


def slug_of(title: str) -> str:
    """ "Copperleaf: a lamp!" -> "copperleaf-a-lamp"; Latin letters ASCII-folded ("Café" ->
    "cafe"), cut at a word boundary; "" when nothing readable is left."""
    text = unicodedata.normalize("NFKC", title or "")  # full-width letters become ASCII ones
    text = "".join(ch if ord(ch) < FIRST_LEFT_OUT else " " for ch in text)
    return slugify(text, max_length=MAX_SLUG_LENGTH, word_boundary=True)
