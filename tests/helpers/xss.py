"""The stored-XSS corpus (tests/security/xss_payloads.txt), for every test that writes it."""

from __future__ import annotations

from pathlib import Path

PAYLOAD_FILE = Path(__file__).resolve().parents[1] / "security" / "xss_payloads.txt"
MARKERS = {"⟪NUL⟫": "\x00", "⟪LF⟫": "\n"}


def load_payloads() -> list[str]:
    payloads = []
    for line in PAYLOAD_FILE.read_text(encoding="utf-8").split("\n"):
        if not line or line.startswith("#"):
            continue
        for marker, char in MARKERS.items():
            line = line.replace(marker, char)
        payloads.append(line)
    return payloads


PAYLOADS = load_payloads()


def storable(payload: str) -> str:
    """What can reach the database: NUL is refused by every form."""
    return payload.replace("\x00", "")
