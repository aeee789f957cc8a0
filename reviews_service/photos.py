"""Buyers' photos: decoded and re-encoded with Pillow, so that what is stored and served is pixels only.

A phone's JPEG carries EXIF (the camera, the time, often the GPS position of the buyer's home). Nothing of the
upload is kept but its pixels: it is decoded, turned upright by its EXIF orientation, scaled to at most MAX_SIDE
pixels a side, converted to sRGB from the upload's colour profile, and written anew as a JPEG with no metadata at
all, with a THUMB_SIDE thumbnail beside it (widgets load only that). Before anything is decoded its header is
checked: only JPEG (and MPO, the multi-picture JPEG many phones write), PNG and WebP, at most MAX_UPLOAD bytes, and
at most MAX_PIXELS pixels for a JPEG or MAX_LOSSLESS_PIXELS for a PNG or WebP (a decompression bomb is a few
kilobytes that unpack into gigabytes).

What one decode costs is bounded: a JPEG is decoded at a reduced scale (1/2 to 1/8) that still covers MAX_SIDE,
while a PNG or WebP can only be decoded whole, at 4 bytes a pixel, hence its lower cap (64 MB at most). Everything
after the decode (orientation, colour conversion, transparency on white) works on the image already scaled down
to MAX_SIDE, never on a full-size copy. How many decodes run at once is the app's gate
(reviews_service.limits.Limits.photo_decodes), and how many pixels one submission may bring is PIXEL_BUDGET.

Storage: one document per photo (reviews_service.documents.PhotoDoc), both JPEGs in it; the moderation and
listing queries are in reviews_service.photo_store.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, ImageCms, UnidentifiedImageError

from reviews_service import documents as docs
from reviews_service.cache import strong_etag

MAX_UPLOAD = 8 * 1024 * 1024  # bytes of one uploaded photo
MAX_PIXELS = 40_000_000  # width x height of a JPEG before decoding (a 40 MP phone camera's full size)
MAX_LOSSLESS_PIXELS = 16_000_000  # of a PNG or WebP, decoded whole: a phone's screenshot is 3-4 MP, a 4K one 8 MP
PIXEL_BUDGET = 200_000_000  # pixels of all photos in one submission (e.g. 3 products x 3 photos of 20 MP)
MAX_SIDE = 1600  # the stored photo's longest side
THUMB_SIDE = 320  # the thumbnail's longest side: sharp in a widget's small box on a 3x phone screen
QUALITY = 82
THUMB_QUALITY = 75
FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: Pillow's name for a phone JPEG with a second (depth) picture
CONTENT_TYPE = "image/jpeg"
ORIENTATION = 0x0112  # the EXIF tag ImageOps.exif_transpose reads
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))  # what every stored JPEG's pixels are in
# What new_photo_id() makes (16 characters) within what normalize accepts in a record's `photos`.
PHOTO_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class PhotoRefused(ValueError):
    """This upload is not a photo we take; the message says why, in words for the buyer's form."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "not-an-image", "format", "too-large", "too-many-pixels"


@dataclass(frozen=True)
class Processed:
    """A re-encoded photo: JPEG bytes with no metadata and its size, and its thumbnail's."""

    data: bytes
    width: int
    height: int
    content_type: str = CONTENT_TYPE
    thumbnail: bytes = b""
    thumb_width: int = 0
    thumb_height: int = 0


def pixels(upload: bytes) -> int:
    """How many pixels an upload would decode into, from its header alone (0 when it is not an image we read)."""
    try:
        with Image.open(io.BytesIO(upload)) as opened:
            width, height = opened.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, KeyError, EOFError, Image.DecompressionBombError):
        return 0
    return max(0, width) * max(0, height)


def _decode(upload: bytes) -> Image.Image:
    """The upload's pixels, upright, at most MAX_SIDE a side; PhotoRefused before decoding anything it should not."""
    if len(upload) > MAX_UPLOAD:
        raise PhotoRefused("too-large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(upload))  # reads the header only
            if opened.format not in FORMATS:
                raise PhotoRefused("format")
            width, height = opened.size
            cap = MAX_PIXELS if opened.format in ("JPEG", "MPO") else MAX_LOSSLESS_PIXELS
            if width * height > cap or width < 1 or height < 1:
                raise PhotoRefused("too-many-pixels")
            if opened.format in ("JPEG", "MPO"):
                # decoded at 1/2, 1/4 or 1/8 scale where that still covers MAX_SIDE: a 12 MP phone photo then
                # takes a quarter of the memory and time
                scale = MAX_SIDE / max(width, height)
                opened.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            opened.load()
            orientation = opened.getexif().get(ORIENTATION, 1)
            icc = opened.info.get("icc_profile")
            image = opened.convert("RGBA") if opened.mode in ("P", "PA") else opened  # a palette's transparency
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)  # in place: no full-size copy
            # a broken orientation tag is the upload's problem, not ours: refused like any broken file
            image = _upright(image, orientation)
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("too-many-pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, KeyError, EOFError):
        raise PhotoRefused("not-an-image") from None
    if icc and image.mode in ("RGB", "CMYK", "L"):
        image = _in_srgb(image, icc)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")  # transparency on white, as a page shows it
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    return image


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """The (already scaled) image turned as its EXIF orientation tag says (1-8; anything else leaves it)."""
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return image if method is None else image.transpose(method)


def _in_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """The pixels converted from the upload's colour profile to sRGB, which is what a JPEG without a profile means.

    Phones write wide-gamut (Display P3) photos with a profile; dropping it without converting would wash out
    their colours. A profile that cannot be read leaves the pixels as they are.
    """
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted or image


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # a new image with no `exif=`/`icc_profile=` passed: Pillow writes none of the upload's metadata
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def process(upload: bytes) -> Processed:
    """The upload re-encoded (upright, in sRGB, at most MAX_SIDE a side, no EXIF/GPS/profile/text) with a
    thumbnail, or PhotoRefused."""
    image = _decode(upload)  # at most MAX_SIDE a side already
    small = image.copy()
    small.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return Processed(
        _jpeg(image, QUALITY),
        image.width,
        image.height,
        thumbnail=_jpeg(small, THUMB_QUALITY),
        thumb_width=small.width,
        thumb_height=small.height,
    )


def new_photo_id() -> str:
    """A random, unguessable photo id (the public URL's name)."""
    return secrets.token_urlsafe(12)


def valid_photo_id(photo_id: str) -> bool:
    """Whether a string has a photo id's shape (checked before the store is asked)."""
    return bool(PHOTO_ID.match(photo_id))


def photo_url(base_url: str, photo_id: str) -> str:
    """The public URL of a photo on the service's base URL ('' gives a site-relative one)."""
    return f"{base_url.rstrip('/')}/photos/{photo_id}.jpg"


def thumbnail_url(base_url: str, photo_id: str) -> str:
    """The public URL of a photo's thumbnail."""
    return f"{base_url.rstrip('/')}/photos/{photo_id}/thumb.jpg"


def save_photo(photo_id: str, business_unit: str, review_id: str, photo: Processed, now: datetime) -> None:
    """Store one processed photo of a review (published until a moderator hides it)."""
    thumbnail = photo.thumbnail or photo.data  # a Processed made without one (older callers) serves the photo
    docs.PhotoDoc._get_collection().replace_one(
        {"_id": photo_id},
        {
            "_id": photo_id,
            "business_unit": business_unit,
            "review_id": review_id,
            "content_type": photo.content_type,
            "data": photo.data,
            "width": photo.width,
            "height": photo.height,
            "etag": strong_etag(photo.data),
            "thumbnail": thumbnail,
            "thumb_width": photo.thumb_width or photo.width,
            "thumb_height": photo.thumb_height or photo.height,
            "thumb_etag": strong_etag(thumbnail),
            "status": "published",
            "created_at": now,
        },
        upsert=True,
    )


def delete_photos(photo_ids: list[str]) -> int:
    """Remove photos (a review's replaced ones); returns how many were removed."""
    if not photo_ids:
        return 0
    return int(docs.PhotoDoc._get_collection().delete_many({"_id": {"$in": photo_ids}}).deleted_count)


def get_photo(photo_id: str) -> dict[str, Any] | None:
    """A stored photo's document (with its bytes), or None."""
    raw: dict[str, Any] | None = docs.PhotoDoc._get_collection().find_one({"_id": photo_id})
    return raw
