"""The links a digest carries: its web page, signed so that no admin token is ever put in a browser, and each
one-star review's moderation address.

A page link is `{REVIEWS_PUBLIC_URL}/digests/{bu}/{day}?exp=UNIX&sig=HEX`, the signature an HMAC-SHA256 with
REVIEWS_SECRET_KEY over the unit, the day and the expiry. It shows that one digest until it expires (7 days after
the e-mail was made) and nothing else; changing any part of it (another unit, another day, a later expiry)
breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote, urlencode

VALID_FOR = timedelta(days=7)
HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Links:
    """Where a digest's reader goes from it: its web page (signed) and the moderation of a review."""

    base_url: str
    page: str
    expires: datetime

    def moderate(self, review_id: str) -> str:
        """The admin API address of a review, where a moderator hides it or replies (PATCH)."""
        return f"{self.base_url}/v1/admin/reviews/{quote(review_id, safe='')}"


def signature(secret: str, business_unit: str, day: date, expires: int) -> str:
    """The HMAC-SHA256 (hex) of one digest's page link."""
    message = f"digest\n{business_unit}\n{day.isoformat()}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def make_links(base_url: str, secret: str, business_unit: str, day: date, *, now: datetime) -> Links:
    """The links of a digest made `now`: its page link expires `VALID_FOR` later."""
    base = base_url.rstrip("/")
    expires = int((now + VALID_FOR).timestamp())
    query = urlencode({"exp": expires, "sig": signature(secret, business_unit, day, expires)})
    page = f"{base}/digests/{quote(business_unit, safe='')}/{day.isoformat()}?{query}"
    return Links(base_url=base, page=page, expires=datetime.fromtimestamp(expires, tz=now.tzinfo))


def check(secret: str, business_unit: str, day: date, expires: str, sig: str, *, now: datetime) -> str | None:
    """Why a page link must be refused ("forged" or "expired"), or None when it is good."""
    # isascii: '²' is a digit to isdigit() but not to int(), which would turn a bad link into a 500
    well_formed = expires.isascii() and expires.isdigit() and len(expires) <= 12
    if not well_formed or len(sig) != 64 or not set(sig.lower()) <= HEX:
        return "forged"
    wanted = signature(secret, business_unit, day, int(expires))
    if not hmac.compare_digest(wanted, sig.lower()):  # compared in constant time: no guessing byte by byte
        return "forged"
    if int(expires) <= now.timestamp():
        return "expired"
    return None
