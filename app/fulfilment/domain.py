"""Fulfilment rules in plain Python: reading a tracking CSV, cleaning a backer's words, and
the share of rewards delivered."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app.i18n import N_

TRACKING_MAX = 100
PROBLEM_MAX = 2000
CSV_MAX_LINES = 20_000
PLEDGE_ID_MAX = 2**31 - 1  # an INTEGER column: PostgreSQL refuses a larger one
TWO_COLUMNS = N_("Write two columns: the pledge id and the tracking number.")
NOT_AN_ID = N_("“%(value)s” is not a pledge id.")


@dataclass(frozen=True)
class CsvLine:
    number: int  # the line's number in the file, from 1 (a header is line 1)
    pledge_id: int
    tracking_number: str


@dataclass(frozen=True)
class LineError:
    number: int
    message: str  # a catalogue entry: shown through gettext
    values: tuple[tuple[str, str], ...] = ()

    @property
    def params(self) -> dict[str, str]:
        return dict(self.values)


class CsvRefused(Exception):
    """The file as a whole cannot be read; the message is a catalogue entry."""


def has_control_characters(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def clean_tracking(value: str | None) -> str:
    return (value or "").strip()


def tracking_error(value: str) -> str | None:
    """Why a tracking number is refused (a catalogue entry), or None."""
    if len(value) > TRACKING_MAX:
        return N_("The tracking number is longer than 100 characters.")
    if has_control_characters(value):
        return N_("Write the tracking number on one line, without control characters.")
    return None


def clean_problem(text: str | None) -> str:
    """A backer's description as plain text: line breaks kept, other control characters
    dropped, surrounding white space removed (it is shown escaped, never as HTML)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in text if ch in "\n\t" or not (ord(ch) < 32 or ord(ch) == 127))
    return kept.strip()


def _is_header(cells: list[str]) -> bool:
    first = cells[0].strip().lower().lstrip("\ufeff") if cells else ""
    return first in ("pledge_id", "pledge id", "pledge")


def parse_csv(data: bytes) -> tuple[list[CsvLine], list[LineError]]:
    """Every line of a ``pledge_id,tracking_number`` file (the header optional, blank lines
    skipped), and what is wrong with each line that cannot be used as written."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvRefused(N_("The file is not UTF-8 text.")) from error
    if "\x00" in text:
        raise CsvRefused(N_("The file is not UTF-8 text."))
    lines: list[CsvLine] = []
    errors: list[LineError] = []
    seen: dict[int, int] = {}
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise CsvRefused(N_("The file is not a CSV file.")) from error
    if len(rows) > CSV_MAX_LINES:
        raise CsvRefused(N_("The file has more than 20,000 lines: split it."))
    for number, cells in enumerate(rows, start=1):
        if not any(c.strip() for c in cells):
            continue
        if number == 1 and _is_header(cells):
            continue
        if len(cells) > 2:
            errors.append(LineError(number, TWO_COLUMNS))
            continue
        raw_id = cells[0].strip().lstrip("#")
        if not raw_id.isdigit() or not 0 < int(raw_id) <= PLEDGE_ID_MAX:
            errors.append(LineError(number, NOT_AN_ID, (("value", cells[0][:40]),)))
            continue
        pledge_id = int(raw_id)
        tracking = clean_tracking(cells[1] if len(cells) > 1 else "")
        if problem := tracking_error(tracking):
            errors.append(LineError(number, problem))
            continue
        if pledge_id in seen:
            errors.append(
                LineError(
                    number,
                    N_("Pledge %(id)s is also on line %(line)s."),
                    (("id", str(pledge_id)), ("line", str(seen[pledge_id]))),
                )
            )
            continue
        seen[pledge_id] = number
        lines.append(CsvLine(number, pledge_id, tracking))
    if not lines and not errors:
        raise CsvRefused(N_("The file has no lines to read."))
    return lines, errors


def share_percent(part: int, whole: int) -> int:
    """Whole percent, rounded down (83 of 100 delivered is 83%, 99.9% is 99%)."""
    if whole <= 0:
        return 0
    return part * 100 // whole
