"""Covers are re-encoded: what is stored is never the uploaded file.

The pixels are decoded, turned upright by their EXIF orientation, scaled down to at most
COVER_MAX_SIDE a side and encoded again in the same format with no metadata: no EXIF (GPS
included), no XMP, no comment, no PNG text chunk. Each test reads the stored file back with
Pillow.
"""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import select

from app.extensions import db
from app.projects import uploads
from app.projects.models import Project
from tests.helpers import gen_project, gen_user
from tests.helpers.forms import PROJECT as FIELDS
from tests.helpers.forms import field_errors

XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="Secret Village"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
COMMENT = b"shot at 12 Hidden Lane"


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 3.0)
    return exif


def stored(name: str) -> tuple[Image.Image, bytes]:
    data = (uploads.upload_dir() / name).read_bytes()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, data


def assert_no_metadata(image: Image.Image, data: bytes) -> None:
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile", "dpi"):
        assert key not in image.info, key
    assert b"Exif\x00\x00" not in data
    assert b"ns.adobe.com/xap" not in data and b"Secret Village" not in data
    assert COMMENT not in data
    assert b"PhoneMaker" not in data


@pytest.fixture
def owner(app):
    return gen_user("owner@example.com", "Owner")


def test_a_jpeg_loses_its_gps_exif_xmp_and_comment_through_the_form(app, browser, owner):
    photo = Image.new("RGB", (640, 360), (30, 90, 160))
    upload = encoded(
        photo, "JPEG", quality=95, exif=exif_with_gps(), xmp=XMP, comment=COMMENT, dpi=(300, 300)
    )
    with Image.open(io.BytesIO(upload)) as original:  # the upload really carries them
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert original.info["comment"] == COMMENT and "xmp" in original.info
    browser.login("owner@example.com")

    response = browser.submit(
        "/projects/new",
        {**FIELDS, "cover": (io.BytesIO(upload), "holiday.jpg")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    project = db.session.scalar(select(Project))
    image, data = stored(project.cover_image)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (640, 360))
    assert_no_metadata(image, data)
    assert data != upload
    # The pixels are the photo's (re-encoded at quality 85, so close, not equal).
    assert all(
        abs(a - b) <= 6 for a, b in zip(image.getpixel((320, 180)), (30, 90, 160), strict=True)
    )
    with browser.client.get(f"/uploads/{project.cover_image}") as served:
        assert served.status_code == 200 and served.data == data


def test_a_large_image_is_stored_at_most_cover_max_side_keeping_its_aspect(app):
    assert app.config["COVER_MAX_SIDE"] == 2400
    upload = encoded(Image.new("RGB", (5000, 3000), (200, 40, 40)), "JPEG")
    image, _ = stored(uploads.save_cover(upload))
    assert (image.format, image.size) == ("JPEG", (2400, 1440))

    tall = encoded(Image.new("RGB", (1000, 4000), (0, 0, 0)), "PNG")
    image, _ = stored(uploads.save_cover(tall))
    assert (image.format, image.size) == ("PNG", (600, 2400))


def test_cover_max_side_is_read_from_the_configuration(app):
    app.config["COVER_MAX_SIDE"] = 100
    image, _ = stored(uploads.save_cover(encoded(Image.new("RGB", (300, 150)), "WEBP")))
    assert (image.format, image.size) == ("WEBP", (100, 50))


def test_a_small_image_keeps_its_size(app):
    image, _ = stored(uploads.save_cover(encoded(Image.new("RGB", (2400, 1350)), "PNG")))
    assert image.size == (2400, 1350)


def test_a_png_loses_its_text_chunks_and_exif(app):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ada Lovelace, 12 Hidden Lane")
    info.add_text("Comment", "private", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    upload = encoded(
        Image.new("RGBA", (64, 36), (10, 20, 30, 128)), "PNG", pnginfo=info, exif=exif_with_gps()
    )
    with Image.open(io.BytesIO(upload)) as original:
        assert original.text["Author"].startswith("Ada")
        assert b"tEXt" in upload and b"zTXt" in upload and b"iTXt" in upload

    image, data = stored(uploads.save_cover(upload))

    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (64, 36))
    assert image.text == {}
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"pHYs"):
        assert chunk not in data, chunk
    assert b"Hidden Lane" not in data
    assert_no_metadata(image, data)
    assert image.getpixel((0, 0)) == (10, 20, 30, 128)  # transparency kept


def test_an_exif_rotated_jpeg_is_stored_upright(app):
    # Stored sideways, as a phone does: 40 wide, 20 high, red on the left, blue on the right,
    # with Orientation 6 ("rotate 90 degrees clockwise to view"). Upright it is 20 wide and
    # 40 high, red on top.
    sideways = Image.new("RGB", (40, 20), (0, 0, 255))
    sideways.paste((255, 0, 0), (0, 0, 20, 20))
    upload = encoded(sideways, "JPEG", quality=95, exif=exif_with_gps(orientation=6))

    image, data = stored(uploads.save_cover(upload))

    assert image.size == (20, 40)
    red, blue = image.getpixel((10, 5)), image.getpixel((10, 35))
    assert red[0] > 200 and red[2] < 60, red
    assert blue[2] > 200 and blue[0] < 60, blue
    assert ExifTags.Base.Orientation not in image.getexif()  # never rotated twice
    assert_no_metadata(image, data)


def test_a_webp_loses_its_exif_and_xmp(app):
    upload = encoded(
        Image.new("RGB", (80, 45), (5, 150, 5)), "WEBP", exif=exif_with_gps().tobytes(), xmp=XMP
    )
    with Image.open(io.BytesIO(upload)) as original:
        assert "exif" in original.info and "xmp" in original.info
    image, data = stored(uploads.save_cover(upload))
    assert (image.format, image.size) == ("WEBP", (80, 45))
    assert_no_metadata(image, data)
    assert b"EXIF" not in data and b"XMP " not in data


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animation_is_stored_as_its_first_frame(app, fmt):
    frames = [Image.new("RGB", (48, 27), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    upload = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    with Image.open(io.BytesIO(upload)) as original:
        assert original.n_frames == 2
    image, _ = stored(uploads.save_cover(upload))
    assert getattr(image, "n_frames", 1) == 1
    assert image.getpixel((24, 13))[0] > 200  # the red first frame


@pytest.mark.parametrize(
    ("make", "fmt", "mode"),
    [
        (lambda: Image.new("P", (30, 20), 3), "PNG", "RGB"),
        (lambda: Image.new("L", (30, 20), 99), "PNG", "L"),
        (lambda: Image.new("1", (30, 20), 1), "PNG", "L"),
        (lambda: Image.new("I;16", (30, 20), 40_000), "PNG", "L"),
        (lambda: Image.new("LA", (30, 20), (9, 9)), "PNG", "RGBA"),
        (lambda: Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG", "RGB"),
        (lambda: Image.new("L", (30, 20), 99), "JPEG", "RGB"),
        (lambda: Image.new("RGBA", (30, 20), (1, 2, 3, 4)), "WEBP", "RGBA"),
    ],
    ids=[
        "png-palette",
        "png-grey",
        "png-1bit",
        "png-16bit",
        "png-grey-alpha",
        "jpeg-cmyk",
        "jpeg-grey",
        "webp-alpha",
    ],
)
def test_every_pixel_format_is_stored_in_a_plain_mode(app, make, fmt, mode):
    upload = encoded(make(), fmt)
    image, data = stored(uploads.save_cover(upload))
    assert (image.format, image.mode, image.size) == (fmt, mode, (30, 20))
    assert data != upload


def test_the_stored_file_is_never_the_upload_as_is(app):
    # A clean, minimal PNG followed by bytes a browser or another program might act on.
    upload = encoded(Image.new("RGB", (16, 9), (1, 2, 3)), "PNG") + b"<script>alert(1)</script>"
    image, data = stored(uploads.save_cover(upload))
    assert data != upload and b"<script>" not in data
    assert image.getpixel((0, 0)) == (1, 2, 3)


def test_a_truncated_image_is_refused_with_a_message_and_nothing_stored(app, browser, owner):
    photo = Image.effect_noise((400, 300), 60).convert("RGB")
    upload = encoded(photo, "JPEG", quality=95)
    truncated = upload[: len(upload) // 2]
    project = gen_project(owner)
    before = set(uploads.upload_dir().iterdir())
    cover = project.cover_image
    browser.login("owner@example.com")

    response = browser.submit(
        f"/projects/{project.id}/edit",
        {**FIELDS, "title": "Not saved", "cover": (io.BytesIO(truncated), "cut.jpg")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), "cover")
    assert errors == ["The image could not be read: the file may be damaged."]
    assert set(uploads.upload_dir().iterdir()) == before
    db.session.expire_all()
    assert (project.title, project.cover_image) == ("Moon Lamp", cover)
