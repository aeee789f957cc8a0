"""The form's links: `{REVIEWS_PUBLIC_URL}/r/{token}`, the token an itsdangerous signature (keyed by
REVIEWS_SECRET_KEY) over the invitation's random id and its expiry, and nothing else: no order reference, no
e-mail address, no name. A changed byte breaks the signature ("forged"); past its expiry it is refused
("expired") even when the invitation itself is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "reviews.invitation.v1"
MAX_TOKEN = 200  # a real token is ~70 characters; anything much longer is not ours and is not even parsed

Refusal = Literal["forged", "expired"]


@dataclass(frozen=True)
class TokenRefused(Exception):
    """A link that must not open a form: forged (or not a token at all) or past its expiry."""

    reason: Refusal


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def make_token(secret: str, invitation_id: str, expires_at: datetime) -> str:
    """The signed token of an invitation's form link."""
    return str(_serializer(secret).dumps([invitation_id, int(expires_at.timestamp())]))


def read_token(secret: str, token: str, *, now: datetime, allow_expired: bool = False) -> str:
    """The invitation id a token names, or TokenRefused("forged" | "expired").

    `allow_expired`: an unsubscribe link keeps working after the form's has expired (a genuine token still)."""
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        raise TokenRefused("forged")
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature:
        raise TokenRefused("forged") from None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)):
        raise TokenRefused("forged")
    if not isinstance(payload[1], int) or isinstance(payload[1], bool):
        raise TokenRefused("forged")
    if payload[1] <= now.timestamp() and not allow_expired:
        raise TokenRefused("expired")
    return payload[0]


def form_link(base_url: str, token: str) -> str:
    """The public address of the form a token opens."""
    return f"{base_url.rstrip('/')}/r/{token}"


def expiry(token_expires: int) -> datetime:
    """A token's expiry as a UTC datetime."""
    return datetime.fromtimestamp(token_expires, tz=UTC)
