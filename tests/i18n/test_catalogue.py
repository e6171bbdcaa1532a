"""CI checks of the translations (issue 12.5): the Chinese catalogue is complete and current,
its compiled file is not stale, and templates write no words outside gettext."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.i18n.lint import words_outside_gettext

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}
FIX = (
    "update the catalogue: see the README's Languages section (pybabel extract, update, "
    "translate, compile)"
)


def catalogue(locale: str = "zh_Hans_CN"):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def messages_in_code() -> set[tuple[str | None, str]]:
    """(context, msgid) of every message the code and templates hand to gettext, as
    ``pybabel extract -F babel.cfg`` finds them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


def test_every_message_of_the_code_has_a_chinese_translation():
    cat = catalogue()
    translated = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id): m for m in cat if m.id}
    missing = sorted(
        msgid for key in messages_in_code() if key not in translated for msgid in [key[1]]
    )
    assert missing == [], f"{len(missing)} messages are not in the catalogue: {FIX}"


def test_no_translation_is_empty_or_fuzzy():
    empty, fuzzy = [], []
    for message in catalogue():
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            empty.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert empty == [], f"untranslated: {FIX}"
    assert fuzzy == [], f"fuzzy (to check and confirm): {FIX}"


def test_translations_keep_every_placeholder():
    """Babel's own checks: %(name)s variables the same in the translation as in English."""
    problems = [(m.id, str(e)) for m, errors in catalogue().check() for e in errors]
    assert problems == []


def test_the_compiled_catalogue_is_not_stale():
    """The committed .mo is what `pybabel compile` makes of the committed .po today."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        compiled = io.BytesIO()
        write_mo(compiled, catalogue(po.parent.parent.name), use_fuzzy=False)
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} is missing: run pybabel compile -d app/translations"
        assert mo.read_bytes() == compiled.getvalue(), (
            f"{mo} is stale: run pybabel compile -d app/translations"
        )


def templates() -> list[Path]:
    return sorted((ROOT / "app").glob("**/templates/**/*.html"))


def test_templates_write_no_words_outside_gettext():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in templates()
        for line, text in words_outside_gettext(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    ("template", "found"),
    [
        ("<p>Back this project</p>", ["Back this project"]),
        ('<img src="x.png" alt="Cover">', ['alt="Cover"']),
        ('<input placeholder="Search">', ['placeholder="Search"']),
        ('<button aria-label="Close">×</button>', ['aria-label="Close"']),
        ("<p>{{ project.title }} · 12%</p>", []),
        ("<p>{{ _('Back this project') }}</p>", []),
        ("<img alt=\"{{ _('Cover of %(t)s', t=title) }}\">", []),
        ("<p>{% trans %}Hello {{ name }}{% endtrans %}</p>", []),
        ("<script>var words = 'not shown';</script>", []),
        ("{# a comment is not shown #}", []),
        ("<p>{% if x %}Sold out{% endif %}</p>", ["Sold out"]),
        ("<p>已售罄</p>", ["已售罄"]),
    ],
)
def test_the_lint_finds_words_people_would_read(template, found):
    assert [text for _line, text in words_outside_gettext(template)] == found
