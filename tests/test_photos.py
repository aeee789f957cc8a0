"""Buyers' photos as processed: only pixels leave the buyer's phone, and nothing that is not a photo gets in.

Each upload is made with Pillow the way a phone or a hostile client would send it; the assertions read the bytes
we would store and serve back with Pillow (and, for metadata, byte by byte).
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from reviews_service import photos
from reviews_service.normalize import _PHOTO_ID_RE
from reviews_service.photos import MAX_SIDE, THUMB_SIDE, PhotoRefused

CAMERA = "SecretPhone 12 Pro"
LATITUDE = (IFDRational(52, 1), IFDRational(22, 1), IFDRational(1234, 100))  # 52 deg 22' 12.34" N: a buyer's street


def phone_jpeg(width: int = 400, height: int = 300, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: camera make and model, a GPS position, an orientation tag."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue: shows which way is up
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCorp"
    exif[ExifTags.Base.Model] = CAMERA
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (IFDRational(4, 1), IFDRational(53, 1), IFDRational(5678, 100))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_phone_jpeg_really_carries_what_we_strip() -> None:
    upload = phone_jpeg()
    exif = opened(upload).getexif()
    assert exif[ExifTags.Base.Model] == CAMERA
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert CAMERA.encode() in upload


def test_exif_and_gps_are_gone_from_the_photo_and_its_thumbnail() -> None:
    done = photos.process(phone_jpeg())
    for data in (done.data, done.thumbnail):
        image = opened(data)
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert b"Exif\x00\x00" not in data  # no APP1 EXIF segment at all
        assert CAMERA.encode() not in data and b"SecretCorp" not in data
        assert b"GPS" not in data


def test_orientation_is_applied_to_the_pixels() -> None:
    # orientation 6: the camera was turned; viewers rotate 90 degrees clockwise. After that the blue half is on top.
    done = photos.process(phone_jpeg(400, 300, orientation=6))
    assert (done.width, done.height) == (300, 400)
    image = opened(done.data).convert("RGB")
    top, bottom = image.getpixel((150, 50)), image.getpixel((150, 350))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[2] > 150 > top[0]  # blue on top
    assert bottom[0] > 150 > bottom[2]  # red below


def test_large_photos_are_scaled_and_get_a_small_thumbnail() -> None:
    done = photos.process(phone_jpeg(4000, 3000))
    assert (done.width, done.height) == (MAX_SIDE, 1200)
    assert (done.thumb_width, done.thumb_height) == (THUMB_SIDE, 240)
    assert opened(done.thumbnail).size == (THUMB_SIDE, 240)
    assert len(done.thumbnail) < len(done.data) / 4


def test_a_small_photo_is_not_enlarged() -> None:
    done = photos.process(phone_jpeg(200, 100))
    assert (done.width, done.height) == (200, 100)
    assert (done.thumb_width, done.thumb_height) == (200, 100)


def test_png_with_alpha_becomes_a_jpeg_on_white() -> None:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 32, 64))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=_png_text("Author", "Anna Bakker, Keizersgracht 1"))
    done = photos.process(out.getvalue())
    result = opened(done.data).convert("RGB")
    assert result.format is None or opened(done.data).format == "JPEG"
    transparent, green = result.getpixel((50, 32)), result.getpixel((10, 32))
    assert isinstance(transparent, tuple) and min(transparent) > 240  # white, not black
    assert isinstance(green, tuple) and green[1] > 100 > green[0]
    assert b"Keizersgracht" not in done.data and b"Keizersgracht" not in done.thumbnail


def _png_text(key: str, value: str) -> object:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(key, value)
    return info


def test_webp_is_taken() -> None:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (10, 200, 10)).save(out, "WEBP")
    done = photos.process(out.getvalue())
    assert opened(done.data).format == "JPEG"
    assert (done.width, done.height) == (120, 80)


def test_an_mpo_phone_jpeg_is_taken() -> None:
    # Many phones write a second (depth) picture after the first: Pillow calls that format MPO.
    frames = [Image.new("RGB", (80, 60), (200, 0, 0)), Image.new("RGB", (80, 60), (0, 0, 200))]
    out = io.BytesIO()
    frames[0].save(out, "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    done = photos.process(out.getvalue())
    assert opened(done.data).format == "JPEG" and (done.width, done.height) == (80, 60)


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR declaring width x height, with one tiny compressed row: a few dozen bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [20_000, 7_000])  # 400 MP (Pillow's own bomb limit too) and 49 MP (only ours)
def test_a_decompression_bomb_is_refused_before_decoding(side: int) -> None:
    bomb = _png_header_only(side, side)
    assert len(bomb) < 200
    with pytest.raises(PhotoRefused) as refused:
        photos.process(bomb)
    assert refused.value.reason == "too-many-pixels"


def test_oversize_bytes_are_refused_unread() -> None:
    with pytest.raises(PhotoRefused) as refused:
        photos.process(b"\xff\xd8\xff" + b"\x00" * photos.MAX_UPLOAD)
    assert refused.value.reason == "too-large"


def test_gif_is_refused_as_a_format() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoRefused) as refused:
        photos.process(out.getvalue())
    assert refused.value.reason == "format"


@pytest.mark.parametrize(
    "upload",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
        b"Dit is geen foto, maar een tekstbestand met de naam foto.jpg\n",
        b"",
        b"\xff\xd8\xff\xe0" + b"\x00" * 100,  # a JPEG's first bytes and nothing of a picture
    ],
    ids=["svg", "text-named-jpg", "empty", "truncated-jpeg"],
)
def test_what_is_not_an_image_is_refused(upload: bytes) -> None:
    with pytest.raises(PhotoRefused) as refused:
        photos.process(upload)
    assert refused.value.reason == "not-an-image"


def test_a_truncated_real_jpeg_is_refused() -> None:
    whole = phone_jpeg(800, 600)
    with pytest.raises(PhotoRefused) as refused:
        photos.process(whole[: len(whole) // 2])
    assert refused.value.reason == "not-an-image"


def test_photo_ids_are_unguessable_and_pass_the_ingest_check() -> None:
    ids = {photos.new_photo_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(_PHOTO_ID_RE.match(i) and photos.valid_photo_id(i) for i in ids)
    assert not photos.valid_photo_id("../../etc/passwd") and not photos.valid_photo_id("short")


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _rgb_profile(
    red: tuple[float, float, float], green: tuple[float, float, float], blue: tuple[float, float, float]
) -> bytes:
    """A minimal ICC v2 display profile (matrix + gamma 2.2) with these D50 colorants."""
    xyz = lambda v: b"XYZ \x00\x00\x00\x00" + b"".join(_s15(c) for c in v)  # noqa: E731
    curve = b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, 0x0233) + b"\x00\x00"
    text = b"swapped primaries\x00"
    desc = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text + b"\x00" * 8 + b"\x00\x00\x00" + b"\x00" * 67
    tags = [(b"rXYZ", xyz(red)), (b"gXYZ", xyz(green)), (b"bXYZ", xyz(blue)), (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve), (b"desc", desc)]  # fmt: skip
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags:
        body += b"\x00" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", b"RGB ", b"XYZ ") + b"\x00" * 12
    header += b"acsp" + b"\x00" * 24 + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\x00" * 48
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


SRGB_RED, SRGB_GREEN, SRGB_BLUE = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)


def test_colours_are_converted_from_the_upload_s_profile_to_srgb() -> None:
    # a profile whose "red" channel is sRGB's blue: a camera that says (255, 0, 0) in it means blue
    swapped = _rgb_profile(SRGB_BLUE, SRGB_GREEN, SRGB_RED)
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(out, "JPEG", icc_profile=swapped, quality=95)
    assert opened(out.getvalue()).info.get("icc_profile") == swapped
    done = photos.process(out.getvalue())
    pixel = opened(done.data).convert("RGB").getpixel((32, 32))
    assert isinstance(pixel, tuple) and pixel[2] > 200 and pixel[0] < 60, pixel
    assert "icc_profile" not in opened(done.data).info and b"swapped primaries" not in done.data


def test_an_unreadable_profile_leaves_the_pixels_as_they_are() -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(out, "JPEG", icc_profile=b"not a profile at all" * 10, quality=95)
    pixel = opened(photos.process(out.getvalue()).data).convert("RGB").getpixel((32, 32))
    assert isinstance(pixel, tuple) and pixel[0] > 200 and pixel[2] < 60, pixel


def test_a_cmyk_jpeg_becomes_an_rgb_one() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(out, "JPEG")  # no ink but magenta and yellow: red
    done = photos.process(out.getvalue())
    image = opened(done.data)
    assert image.mode == "RGB"
    pixel = image.getpixel((20, 15))
    assert isinstance(pixel, tuple) and pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60, pixel
