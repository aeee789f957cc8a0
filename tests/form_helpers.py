"""Invitations made directly in the store (the admin API that makes them is built elsewhere), their form links,
photos made with Pillow, and counts of what a submission stores."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from PIL import Image

from reviews_service import documents as docs
from reviews_service import domain, invitation_links, invitation_store
from reviews_service.config import Settings
from tests.conftest import NOW

EMAIL = "anna.bakker@example.com"
ORDER = "ORDER-2026-0042"


def invite(
    settings: Settings,
    *,
    business_unit: str = "test-shop",
    order_ref: str = ORDER,
    products: tuple[str, ...] = ("oak-chair", "walnut-table"),
    locale: str = "nl",
    name: str = "Anna Bakker",
    email: str | None = EMAIL,
    created_at: datetime = NOW - timedelta(days=3),
    expires_at: datetime = NOW + timedelta(days=42),
) -> tuple[domain.Invitation, str]:
    """Store one invitation; returns it and the token of its form link."""
    secret = settings.secret_key.get_secret_value()
    invitation = domain.Invitation(
        id=invitation_store.invitation_id(secret, business_unit, order_ref),
        business_unit=business_unit,
        order_ref=order_ref,
        email=email,
        name=name,
        locale=locale,
        products=products,
        channel="web",
        created_at=created_at,
        expires_at=expires_at,
        sent_at=created_at + timedelta(days=3),
    )
    assert invitation_store.add_invitations([invitation]) == {invitation.id}
    return invitation, invitation_links.make_token(secret, invitation.id, expires_at)


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48), color: str = "orange", exif: bool = False) -> bytes:
    """A small real image; with `exif`, one that carries a camera model and a GPS position."""
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x0110] = "SecretPhone 12"  # Model
        tags[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}  # GPSInfo
        image.save(out, kind, exif=tags)
    else:
        image.save(out, kind)
    return out.getvalue()


def counts(invitation_id: str) -> dict[str, int]:
    """What a submission stores: reviews, photos, and the invitation's count of submissions."""
    raw = docs.InvitationDoc._get_collection().find_one({"_id": invitation_id}) or {}
    return {
        "reviews": docs.ReviewDoc._get_collection().count_documents({}),
        "photos": docs.PhotoDoc._get_collection().count_documents({}),
        "submissions": int(raw.get("submissions") or 0),
    }
