"""Reviews with buyers' photos, made the way the review form makes them: process + save_photo, then one ingest."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from reviews_service import domain, ingest, photos
from reviews_service.state import ServiceState
from tests.conftest import NOW, review

COLOURS = ((200, 40, 40), (40, 160, 60), (40, 80, 200), (230, 180, 20))


def photo_bytes(colour: tuple[int, int, int] = COLOURS[0], size: tuple[int, int] = (800, 600)) -> bytes:
    """A plain JPEG upload of one colour, with a white stripe so that crops and scaling show."""
    image = Image.new("RGB", size, colour)
    image.paste((255, 255, 255), (0, size[1] // 2 - 20, size[0], size[1] // 2 + 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def review_with_photos(
    state: ServiceState,
    business_unit: str,
    external_id: str,
    count: int = 2,
    *,
    now: datetime = NOW,
    **fields: object,
) -> tuple[str, list[str]]:
    """A published review with `count` photos, written at `now` (unless `fields` say `created_at`); returns its id
    and the photo ids (in order)."""
    review_id = domain.review_id(business_unit, str(fields.get("source", "api")), external_id)
    ids = []
    for n in range(count):
        photo_id = photos.new_photo_id()
        photos.save_photo(photo_id, business_unit, review_id, photos.process(photo_bytes(COLOURS[n % 4])), now)
        ids.append(photo_id)
    record = review(external_id, photos=ids, **{"created_at": now.isoformat(), **fields})
    report = ingest.ingest(state, business_unit, [record], now=now)
    assert report.inserted + report.updated == 1, report
    return review_id, ids
