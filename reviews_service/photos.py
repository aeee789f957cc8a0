"""Buyers' photos: decoded and re-encoded with Pillow, so that what is stored and served is pixels only.

A phone's JPEG carries EXIF (the camera, the time, often the GPS position of the buyer's home). Nothing of the
upload is kept but its pixels: it is decoded, turned upright by its EXIF orientation, scaled to at most
MAX_SIDE pixels a side, and written anew as a JPEG with no metadata at all. Before anything is decoded its
header is checked: only JPEG, PNG and WebP, at most MAX_PIXELS pixels (a decompression bomb is a few kilobytes
that unpack into gigabytes), and at most MAX_UPLOAD bytes.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from reviews_service import documents as docs

MAX_UPLOAD = 8 * 1024 * 1024  # bytes of one uploaded photo
MAX_PIXELS = 40_000_000  # width x height before decoding (a 40 MP phone camera's full size)
MAX_SIDE = 1600  # the stored photo's longest side
QUALITY = 82
FORMATS = {"JPEG", "PNG", "WEBP"}
CONTENT_TYPE = "image/jpeg"


class PhotoRefused(ValueError):
    """This upload is not a photo we take; the message says why, in words for the buyer's form."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "not-an-image", "format", "too-large", "too-many-pixels"


@dataclass(frozen=True)
class Processed:
    """A re-encoded photo: JPEG bytes with no metadata, and its size."""

    data: bytes
    width: int
    height: int
    content_type: str = CONTENT_TYPE


def process(upload: bytes) -> Processed:
    """The upload re-encoded (upright, at most MAX_SIDE a side, no EXIF/GPS/ICC text), or PhotoRefused."""
    if len(upload) > MAX_UPLOAD:
        raise PhotoRefused("too-large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(upload))  # reads the header only
            if opened.format not in FORMATS:
                raise PhotoRefused("format")
            width, height = opened.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise PhotoRefused("too-many-pixels")
            opened.load()
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("too-many-pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise PhotoRefused("not-an-image") from None
    image: Image.Image = ImageOps.exif_transpose(opened) or opened
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")  # transparency on white, as a page shows it
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # a new image with no `exif=`/`icc_profile=` passed: Pillow writes none of the upload's metadata
    image.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return Processed(out.getvalue(), image.width, image.height)


def new_photo_id() -> str:
    """A random, unguessable photo id (the public URL's name)."""
    return secrets.token_urlsafe(12)


def save_photo(photo_id: str, business_unit: str, review_id: str, photo: Processed, now: datetime) -> None:
    """Store one processed photo of a review (published until a moderator hides it)."""
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
