"""Cover images: checked by their content, re-encoded, stored under instance/uploads with a
random name.

What is stored is never the uploaded file: the pixels are decoded, turned upright by their
EXIF orientation, converted to sRGB, scaled down to COVER_MAX_SIDE and encoded again in the
same format, so no metadata (EXIF with GPS, XMP, comments, ICC profile, PNG text chunks) and
no bytes smuggled after or inside the image survive.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.i18n import N_

# Pillow's format name -> (stored extension, content type)
IMAGE_TYPES = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = {ext: ctype for ext, ctype in IMAGE_TYPES.values()}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit
JPEG_QUALITY = 85
WEBP_QUALITY = 85
ORIENTATION = 0x0112  # the EXIF tag
NOT_AN_IMAGE = N_("The file is not a PNG, JPEG or WebP image.")


class UploadError(ValueError):
    """An upload refused; the message says why."""


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_cover(data: bytes, max_side: int | None = None) -> str:
    """Store an image after checking what it really is; returns the new file's name. (Also
    profile pictures, with a smaller ``max_side``.)"""
    limit = current_app.config["COVER_MAX_BYTES"]
    if len(data) > limit:
        raise UploadError(
            gettext("The image is too large: at most %(size)s.", size=human_size(limit))
        )
    kind = image_kind(data)
    encoded = reencode(data, kind, max_side or current_app.config["COVER_MAX_SIDE"])
    name = f"{secrets.token_hex(16)}.{IMAGE_TYPES[kind][0]}"
    (upload_dir() / name).write_bytes(encoded)
    return name


def reencode(data: bytes, kind: str, max_side: int) -> bytes:
    """The image's pixels (first frame only), upright, in sRGB, at most ``max_side`` a side,
    encoded again as ``kind`` with no metadata at all. ``data`` has passed image_kind."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != kind:
                    raise UploadError(gettext(NOT_AN_IMAGE))
                clean = _clean_pixels(image, kind, max_side)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(gettext("The image has too many pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        # Truncated or corrupt pixel data, which the header check cannot see.
        raise UploadError(
            gettext("The image could not be read: the file may be damaged.")
        ) from None
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=WEBP_QUALITY)
    return out.getvalue()


def _clean_pixels(image: Image.Image, kind: str, max_side: int) -> Image.Image:
    if kind == "JPEG":  # a big photo is decoded at a reduced scale: faster, less memory
        image.draft("RGB", (max_side, max_side))
    image.seek(0)  # an animation: its first frame
    image.load()
    icc_profile = image.info.get("icc_profile")
    target = _stored_mode(image, kind)
    if image.getexif().get(ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
    if image.mode in ("1", "P", "PA") or image.mode.startswith(("I", "F")):
        image = _eight_bit(image, target)  # so that resizing can filter (P resizes NEAREST)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image = _to_srgb(image, icc_profile, target)
    if image.mode != target:
        image = image.convert(target)
    # A new image holds the pixels and nothing else: no info, no EXIF, no XMP, no text.
    clean = Image.new(target, image.size)
    clean.paste(image)
    return clean


def _eight_bit(image: Image.Image, target: str) -> Image.Image:
    """Palette, one-bit and 16-bit greyscale pixels as ordinary 8-bit ones."""
    if image.mode.startswith(("I", "F")):  # 16-bit (or 32-bit) greyscale: 0..65535 -> 0..255
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert(target)


def _to_srgb(image: Image.Image, icc_profile: bytes | None, target: str) -> Image.Image:
    """The pixels converted from their embedded colour profile to sRGB, so that dropping the
    profile keeps the colours (a Display P3 or CMYK photo would look wrong otherwise)."""
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    mode = "RGBA" if image.mode == "RGBA" and target == "RGBA" else "RGB"
    if image.mode == "RGBA" and mode == "RGB":
        image = image.convert("RGB")
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken or unusual profile: keep the pixels as they are
    return converted or image


def _stored_mode(image: Image.Image, kind: str) -> str:
    """JPEG: RGB. PNG and WebP: RGBA when the image has transparency, else RGB; a greyscale
    PNG stays greyscale."""
    if kind == "JPEG":
        return "RGB"
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        return "RGBA"
    if kind == "PNG" and (image.mode in ("1", "L") or image.mode.startswith(("I", "F"))):
        return "L"
    return "RGB"


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
                    raise UploadError(gettext("The image has too many pixels."))
                image.verify()
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits (above MAX_PIXELS), checked when it reads the size.
        raise UploadError(gettext("The image has too many pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(gettext(NOT_AN_IMAGE)) from None
    if kind not in IMAGE_TYPES:
        raise UploadError(gettext(NOT_AN_IMAGE))
    return kind


def remove(name: str | None) -> None:
    if name and STORED_NAME.match(name):
        (upload_dir() / name).unlink(missing_ok=True)
