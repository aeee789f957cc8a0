"""Admin token management over HTTP (the same as `reviews admin-token`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from reviews_service import domain, repository, tokens
from reviews_service.api.deps import AdminDep, NowDep, StateDep, iso, json_response
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers

router = APIRouter(prefix="/v1/admin/tokens", tags=["admin"], dependencies=[BEARER])


class TokenIn(BaseModel):
    """A token to mint: a name saying who uses it, optionally limited to one business unit."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    business_unit: str | None = Field(None, max_length=63)


def _token_json(token: domain.AdminToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "business_unit": token.business_unit,
        "created_at": iso(token.created_at),
        "revoked_at": iso(token.revoked_at),
    }


@router.post("", status_code=201, **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 415, 422, status=201))
def mint_token(body: TokenIn, principal: AdminDep, now: NowDep, state: StateDep) -> Response:
    """Mint a token; the secret is in this answer only (it is stored hashed)."""
    principal.require_global()
    secret, stored = tokens.mint(state, body.name, body.business_unit, now)
    return json_response({**_token_json(stored), "token": secret}, status=201)


@router.get("", **answers(JSON, *ADMIN_ERRORS))
def list_tokens(principal: AdminDep) -> Response:
    """Minted tokens (never their secrets)."""
    principal.require_global()
    return json_response({"items": [_token_json(t) for t in repository.list_tokens()]})


@router.delete("/{token_id}", **answers(JSON, *ADMIN_ERRORS, 404))
def revoke_token(token_id: str, principal: AdminDep, now: NowDep) -> Response:
    """Revoke a token: it stops working at once."""
    principal.require_global()
    return json_response(_token_json(repository.revoke_token(token_id, now)))
