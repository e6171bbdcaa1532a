"""Cover images: checked by their content, stored under instance/uploads with a random name."""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError

# Pillow's format name -> (stored extension, content type)
IMAGE_TYPES = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = {ext: ctype for ext, ctype in IMAGE_TYPES.values()}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


class UploadError(ValueError):
    """An upload refused; the message says why."""


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_cover(data: bytes) -> str:
    """Store an image after checking what it really is; returns the new file's name."""
    limit = current_app.config["COVER_MAX_BYTES"]
    if len(data) > limit:
        raise UploadError(f"The image is too large: at most {human_size(limit)}.")
    kind = image_kind(data)
    name = f"{secrets.token_hex(16)}.{IMAGE_TYPES[kind][0]}"
    (upload_dir() / name).write_bytes(data)
    return name


def human_size(size: int) -> str:
    """5 MB, 1.5 MB, 200 KB, 900 bytes."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def image_kind(data: bytes) -> str:
    """PNG, JPEG or WEBP, judged by decoding the bytes, never by the file name or header."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                if image.width * image.height > MAX_PIXELS:
                    raise UploadError("The image has too many pixels.")
                image.verify()
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits (above MAX_PIXELS), checked when it reads the size.
        raise UploadError("The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError("The file is not a PNG, JPEG or WebP image.") from None
    if kind not in IMAGE_TYPES:
        raise UploadError("The file is not a PNG, JPEG or WebP image.")
    return kind


def remove(name: str | None) -> None:
    if name and STORED_NAME.match(name):
        (upload_dir() / name).unlink(missing_ok=True)
