"""Decompression bombs as covers: a few KB that would decode to tens of megapixels or more.

Each bomb goes through the real edit-project form. It is refused with a message next to the
cover field, no file is stored and the project keeps its cover; and Pillow never makes a
decoder for its pixels (the size is judged from the header alone), so refusing it costs
neither time nor memory.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from app.extensions import db
from app.projects import uploads
from app.projects.models import Project
from tests.helpers import Browser, gen_project, gen_user
from tests.helpers.forms import PROJECT as FIELDS
from tests.helpers.forms import field_errors
from tests.helpers.images import png_bytes
from tests.helpers.rows import snapshot

TOO_MANY_PIXELS = "The image has too many pixels."


def compressible_png(width: int, height: int) -> bytes:
    """A real, valid one-bit PNG of one colour: its zeros deflate to almost nothing."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 RGB PNG whose header (IHDR, CRC fixed) claims another size."""
    data = bytearray(png_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


BOMBS = [
    # Just over MAX_PIXELS (40 MP), under Pillow's own limit: only the app's check stops it.
    pytest.param(lambda: compressible_png(8000, uploads.MAX_PIXELS // 8000 + 1), id="41 MP"),
    # Over Pillow's warning limit (about 89 MP), and then over its error limit (twice that).
    pytest.param(lambda: png_declaring(10_000, 10_000), id="100 MP header"),
    pytest.param(lambda: png_declaring(100_000, 100_000), id="10 GP header"),
]


@pytest.fixture
def no_decoding(monkeypatch):
    """Records every decoder Pillow makes; a size check must refuse the bomb before any."""
    made = []
    real = Image._getdecoder

    def spy(*args, **kwargs):
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(Image, "_getdecoder", spy)
    return made


@pytest.mark.parametrize("status", ["draft", "live"])
@pytest.mark.parametrize("make_bomb", BOMBS)
def test_a_decompression_bomb_cover_is_refused_before_decoding(app, no_decoding, status, make_bomb):
    bomb = make_bomb()
    assert len(bomb) < 10_000
    width, height = struct.unpack(">II", bomb[16:24])  # the size its header declares
    assert width * height > uploads.MAX_PIXELS
    owner = gen_user("owner@example.com", "Owner")
    project = gen_project(owner, status)
    project.cover_image = uploads.save_cover(png_bytes())
    db.session.commit()
    project_id, cover = project.id, project.cover_image
    browser = Browser(app.test_client())
    assert browser.login("owner@example.com").status_code == 302
    before, files = snapshot(), set(uploads.upload_dir().iterdir())
    no_decoding.clear()

    fields = FIELDS if status == "draft" else {k: FIELDS[k] for k in ("title", "blurb", "story")}
    response = browser.submit(
        f"/projects/{project_id}/edit",
        {**fields, "cover": (io.BytesIO(bomb), "cover.png")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200, response.headers.get("Location")
    assert field_errors(response.get_data(as_text=True), "cover") == [TOO_MANY_PIXELS]
    assert no_decoding == []
    assert set(uploads.upload_dir().iterdir()) == files
    assert snapshot() == before  # the project's cover (and every other row) unchanged
    assert db.session.get(Project, project_id).cover_image == cover
    assert (uploads.upload_dir() / cover).is_file()
