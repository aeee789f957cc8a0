"""Admin tokens: minted ones are shown once and stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from reviews_service import domain, repository
from reviews_service.config import Settings
from reviews_service.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

PREFIX = "rvw_"


@dataclass(frozen=True)
class Principal:
    """Who is calling an admin route: the bootstrap token, or a minted one (maybe scoped)."""

    name: str
    business_unit: str | None = None
    token_id: str | None = None

    def require(self, business_unit: str) -> None:
        """Forbidden unless this principal may act on `business_unit`."""
        if self.business_unit is not None and self.business_unit != business_unit:
            raise Forbidden(f"This token is limited to business unit '{self.business_unit}', not '{business_unit}'.")

    def require_global(self) -> None:
        """Forbidden for tokens scoped to one business unit."""
        if self.business_unit is not None:
            raise Forbidden("This needs an unscoped admin token; yours is limited to one business unit.")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def mint(state: ServiceState, name: str, business_unit: str | None, now: datetime) -> tuple[str, domain.AdminToken]:
    """Create a token; returns the secret (shown once) and what is stored."""
    if business_unit is not None:
        repository.get_business_unit(state, business_unit)
    token_id = secrets.token_hex(4)
    secret = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    stored = domain.AdminToken(
        id=token_id, name=name, digest=digest(secret), business_unit=business_unit, created_at=now
    )
    repository.save_token(stored)
    return secret, stored


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    """The principal behind an `Authorization: Bearer ...` header, or Unauthorized."""
    if not authorization:
        raise Unauthorized("Send an admin token as `Authorization: Bearer <token>`.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("The Authorization header must be `Bearer <token>`.")
    bootstrap = settings.admin_token.get_secret_value() if settings.admin_token else None
    if bootstrap and hmac.compare_digest(token.encode("utf-8", "surrogatepass"), bootstrap.encode()):
        return Principal(name="bootstrap")
    if token.startswith(PREFIX):
        stored = repository.token_by_digest(digest(token))
        if stored is not None:
            if stored.revoked_at is not None:
                raise Unauthorized(f"Admin token '{stored.id}' ({stored.name}) was revoked.")
            return Principal(name=stored.name, business_unit=stored.business_unit, token_id=stored.id)
    raise Unauthorized("Unknown admin token.")
