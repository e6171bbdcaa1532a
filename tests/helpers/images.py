"""Images for covers: small, real files that pass the upload checks."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(colour: tuple[int, int, int] = (40, 80, 160)) -> bytes:
    """A 16x9 PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), colour).save(buffer, "PNG")
    return buffer.getvalue()
