"""docs/fakestripe.md's table of the Stripe behaviours the platform relies on cannot rot: every
test it cites as ``path::test_name`` exists, and every row says whether it is modelled."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fakestripe.md"
SECTION = "## Stripe behaviours the platform relies on"
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"{DOC} has no section {SECTION!r}"
    rest = text.split(SECTION, 1)[1]
    following = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: following.start()] if following else rest


def rows() -> list[list[str]]:
    """The table rows of the section (headers and separators left out), as cells."""
    found = []
    for line in section().splitlines():
        if not line.startswith("| ") or line.startswith("| Stripe behaviour |"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= {"-", " "}:
            continue
        found.append(cells)
    return found


def defined(path: Path, name: str) -> bool:
    pattern = rf"^\s*(async\s+)?def {name}\("
    return re.search(pattern, path.read_text(encoding="utf-8"), re.M) is not None


def test_every_row_says_whether_it_is_modelled():
    table = rows()
    assert len(table) >= 30
    for cells in table:
        assert len(cells) == 4, cells
        assert re.match(r"(yes|partly|no)\b", cells[1]), f"Modelled is yes/partly/no: {cells}"


def test_every_cited_test_exists():
    cited = CITED.findall(section())
    assert len(cited) >= 50
    missing = [
        f"{path}::{name}"
        for path, name in sorted(set(cited))
        if not (ROOT / path).is_file() or not defined(ROOT / path, name)
    ]
    assert missing == []


def test_fake_and_platform_tests_are_in_their_columns():
    for cells in rows():
        fake, platform = cells[2], cells[3]
        assert all(p.startswith("tests/fakestripe/") for p, _ in CITED.findall(fake)), cells
        assert not any(p.startswith("tests/fakestripe/") for p, _ in CITED.findall(platform))
