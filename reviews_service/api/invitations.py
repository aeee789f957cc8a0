"""Admin routes for invitations: one order in, a CSV of orders in, the list with each one's state, and the QR
code of an invitation's link for a store receipt. This is the admin side: e-mail, name and order reference are
shown here, and nowhere public."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from reviews_service import domain, invitation_store, invitations, orders, repository
from reviews_service.api.deps import AdminDep, NowDep, SettingsDep, StateDep, iso, json_response, read_body
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, CSV, JSON, answers
from reviews_service.config import Settings
from reviews_service.errors import InvalidInput
from reviews_service.tokens import Principal

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
PNG = "image/png"
SVG = "image/svg+xml"
QR_BORDER = 4  # the quiet zone, in modules, that QR readers need around the symbol
InvitationState = Literal["created", "sent", "opened", "reviewed", "expired", "opted_out"]
InvitationId = Annotated[str, Path(max_length=64, description="the invitation's id")]
Scale = Annotated[int, Query(ge=1, le=20, description="pixels (SVG: user units) per module")]


_TIME = {"type": ["string", "null"], "description": "UTC ISO 8601, e.g. 2026-11-20T12:00:00.000Z"}
_TEXT = {"type": ["string", "null"]}
INVITATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An invitation with the buyer's personal data (admin only), its state now and its form link",
    "required": ["id", "business_unit", "order_ref", "state", "ordered_at", "expires_at", "link", "qr"],
    "properties": {
        "id": {"type": "string"},
        "business_unit": {"type": "string"},
        "order_ref": {"type": "string"},
        "email": {**_TEXT, "description": "null: no address, or one on the suppression list (never stored)"},
        "name": {"type": "string"},
        "locale": {"enum": list(orders.LOCALES)},
        "products": {"type": "array", "items": {"type": "string"}},
        "channel": {"enum": list(domain.CHANNELS)},
        "state": {"enum": list(domain.INVITATION_STATES)},
        "ordered_at": {**_TIME, "description": "when the order was placed: the delay and the expiry count from it"},
        "expires_at": _TIME,
        "send_at": {**_TIME, "description": "when the first mail is due (null: no mail)"},
        "sent_at": _TIME,
        "reminder_at": _TIME,
        "reminded_at": _TIME,
        "opened_at": _TIME,
        "reviewed_at": _TIME,
        "submissions": {"type": "integer", "minimum": 0},
        "opted_out_at": _TIME,
        "mail_attempts": {"type": "integer", "minimum": 0},
        "mail_error": _TEXT,
        "link": {"type": "string", "description": "the form: {REVIEWS_PUBLIC_URL}/r/{token}"},
        "qr": {
            "type": "object",
            "description": "the link's QR code as SVG and PNG (paths on this service; admin token needed)",
            "properties": {"svg": {"type": "string"}, "png": {"type": "string"}},
        },
    },
}
CREATED_SCHEMA: dict[str, Any] = {
    **INVITATION_SCHEMA,
    "required": [*INVITATION_SCHEMA["required"], "created", "mail"],
    "properties": {
        **INVITATION_SCHEMA["properties"],
        "created": {"type": "boolean", "description": "false: the same order made it before (unchanged)"},
        "mail": {"enum": ["scheduled", "none", "suppressed"]},
        "mail_reason": {**_TEXT, "description": "why no mail is scheduled, in words (null when `mail` is scheduled)"},
    },
}
PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": INVITATION_SCHEMA},
        "next_cursor": {"type": ["string", "null"], "description": "pass as `cursor` for the next page"},
    },
}
IMPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["created", "existing", "rejected", "rejections", "unknown_columns"],
    "properties": {
        "created": {"type": "integer", "minimum": 0},
        "existing": {"type": "integer", "minimum": 0, "description": "orders invited before (or twice in the file)"},
        "rejected": {"type": "integer", "minimum": 0},
        "rejections": {
            "type": "array",
            "description": "the first 100 rejected lines (header = line 1); `rejected` counts them all",
            "items": {
                "type": "object",
                "required": ["line", "reason"],
                "properties": {"line": {"type": "integer"}, "order_ref": _TEXT, "reason": {"type": "string"}},
            },
        },
        "rejections_listed": {"type": "integer"},
        "mail": {
            "type": "object",
            "description": "the new invitations by what happens about mail",
            "properties": {k: {"type": "integer"} for k in ("scheduled", "none", "suppressed")},
        },
        "mail_reasons": {
            "type": "object",
            "description": "new invitations counted under `none` for their unit's policy, by the reason in words",
            "additionalProperties": {"type": "integer"},
        },
        "unknown_columns": {"type": "array", "items": {"type": "string"}, "description": "ignored columns"},
        "delimiter": {"enum": [",", ";"]},
    },
}


class OrderIn(BaseModel):
    """An order to invite the buyer of: the shop review plus one per product bought."""

    model_config = ConfigDict(extra="forbid")
    business_unit: str = Field(max_length=100, description="the unit's slug")
    order_ref: str = Field(max_length=1000, description="the shop's order reference, 1-200 printable characters")
    email: str | None = Field(None, max_length=1000, description="required for channel web; stored lower-cased")
    name: str | None = Field(None, max_length=1000, description="the buyer's name, at most 200 characters")
    locale: str | None = Field(
        None, max_length=35, description="nl, en, de or fr (nl-BE is nl); default the unit's first locale, else en"
    )
    products: list[str] = Field(description="SKUs bought (at most 50, each in the unit's catalogue); [] for none")
    channel: Literal["web", "store"] = Field("web", description="store: the buyer may have no e-mail (QR code)")
    send: bool | None = Field(None, description="mail the invitation; default true when there is an e-mail")
    ordered_at: str | None = Field(
        None, max_length=64, description="ISO 8601 (UTC without an offset), default now; delay and expiry count from it"
    )


def qr_paths(invitation_id: str) -> dict[str, str]:
    """Where an invitation's QR codes are, relative to the service's base URL (admin token needed)."""
    base = f"/v1/admin/invitations/{invitation_id}/qr"
    return {"svg": f"{base}.svg", "png": f"{base}.png"}


def invitation_json(invitation: domain.Invitation, settings: Settings, now: datetime) -> dict[str, Any]:
    """The admin shape of an invitation: its state at `now`, its personal data, its link and QR codes."""
    return {
        "id": invitation.id,
        "business_unit": invitation.business_unit,
        "order_ref": invitation.order_ref,
        "email": invitation.email,
        "name": invitation.name,
        "locale": invitation.locale,
        "products": list(invitation.products),
        "channel": invitation.channel,
        "state": invitation.state(now),
        "ordered_at": iso(invitation.created_at),
        "expires_at": iso(invitation.expires_at),
        "send_at": iso(invitation.send_at),
        "sent_at": iso(invitation.sent_at),
        "reminder_at": iso(invitation.reminder_at),
        "reminded_at": iso(invitation.reminded_at),
        "opened_at": iso(invitation.opened_at),
        "reviewed_at": iso(invitation.reviewed_at),
        "submissions": invitation.submissions,
        "opted_out_at": iso(invitation.opted_out_at),
        "mail_attempts": invitation.mail_attempts,
        "mail_error": invitation.mail_error,
        "link": invitations.link(settings, invitation),
        "qr": qr_paths(invitation.id),
    }


@router.post("/invitations", **answers(JSON, 400, *ADMIN_ERRORS, 413, 415, 422, created=True, schema=CREATED_SCHEMA))
def create_invitation(
    body: OrderIn, principal: AdminDep, state: StateDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Invite an order's buyer (201); the same order again answers its invitation unchanged (200).

    `mail` says what happens: `scheduled` (mailed at `send_at`), `none` (no address, send=false, or a unit's
    policy whose first mail would come after the link expired) or `suppressed` (the address opted out or was
    erased: it is not stored, and nothing is mailed); `mail_reason` says why in words when it is not scheduled."""
    outcome = invitations.create(state, settings, body.model_dump(), now=now, authorize=principal.require)
    data = {
        **invitation_json(outcome.invitation, settings, now),
        "created": outcome.created,
        "mail": outcome.mail,
        "mail_reason": invitations.mail_reason(outcome.invitation, outcome.mail),
    }
    headers = {"Location": f"/v1/admin/invitations/{outcome.invitation.id}"}
    return json_response(data, status=201 if outcome.created else 200, headers=headers)


@router.post(
    "/business-units/{bu}/invitations/import",
    **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 422, schema=IMPORT_SCHEMA),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "A CSV of orders with a header line: order_ref, email, name, locale, products, channel, ordered_at, "
                "send (only order_ref and products required; products are SKUs separated by `|`). UTF-8 with or "
                "without a BOM, `,` or `;` as the delimiter. Unknown columns are named in `unknown_columns`."
            ),
            "content": {CSV: {"schema": {"type": "string"}}},
        }
    },
)
async def import_invitations(
    bu: str, request: Request, principal: AdminDep, state: StateDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Invitations from a CSV of orders: counts (`created`, `existing`, `rejected`, exact) and the first
    rejections with the file's line numbers (the header is line 1). Orders already invited count as existing."""
    principal.require(bu)
    body = await read_body(request, settings)
    if not body.strip():
        raise InvalidInput("The request body is empty; send the CSV file's bytes as the body.", status=400)
    report = await run_in_threadpool(invitations.import_csv, state, settings, bu, body, now=now)
    return json_response(report)


@router.get("/invitations", **answers(JSON, *ADMIN_ERRORS, 404, 422, schema=PAGE_SCHEMA))
def list_invitations(
    principal: AdminDep,
    state: StateDep,
    settings: SettingsDep,
    now: NowDep,
    business_unit: Annotated[str | None, Query(max_length=100, description="a unit's slug; default every unit")] = None,
    invitation_state: Annotated[InvitationState | None, Query(alias="state", description="only this state")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Response:
    """Invitations, newest order first, each with its state (created, sent, opened, reviewed, expired, opted_out)
    and link; a token scoped to one unit sees that unit's."""
    unit = business_unit or principal.business_unit
    if unit is not None:
        principal.require(unit)
        repository.get_business_unit(state, unit)
    page = invitation_store.list_invitations(unit, state=invitation_state, now=now, limit=limit, cursor=cursor)
    items = [invitation_json(i, settings, now) for i in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


@router.get("/invitations/{invitation_id}", **answers(JSON, *ADMIN_ERRORS, 404, 422, schema=INVITATION_SCHEMA))
def get_invitation(invitation_id: InvitationId, principal: AdminDep, settings: SettingsDep, now: NowDep) -> Response:
    """One invitation with its state, personal data, link and QR code addresses."""
    invitation = invitation_store.get_invitation(invitation_id)
    principal.require(invitation.business_unit)
    return json_response(invitation_json(invitation, settings, now))


def _qr(settings: Settings, invitation_id: str, principal: Principal) -> segno.QRCode:
    invitation = invitation_store.get_invitation(invitation_id)
    principal.require(invitation.business_unit)
    # M: a receipt may be creased or smudged (15 % recoverable), still a small symbol for a ~100-character link
    return segno.make_qr(invitations.link(settings, invitation), error="m", boost_error=False)


@router.get("/invitations/{invitation_id}/qr.svg", **answers(SVG, *ADMIN_ERRORS, 404, 422))
def invitation_qr_svg(
    invitation_id: InvitationId, principal: AdminDep, settings: SettingsDep, scale: Scale = 4
) -> Response:
    """The QR code of the invitation's link as SVG, with its quiet zone: for a store receipt."""
    out = io.BytesIO()
    _qr(settings, invitation_id, principal).save(out, kind="svg", scale=scale, border=QR_BORDER, title="Review link")
    return Response(out.getvalue(), media_type=SVG)


@router.get("/invitations/{invitation_id}/qr.png", **answers(PNG, *ADMIN_ERRORS, 404, 422))
def invitation_qr_png(
    invitation_id: InvitationId, principal: AdminDep, settings: SettingsDep, scale: Scale = 4
) -> Response:
    """The QR code of the invitation's link as PNG (`scale` pixels a module), with its quiet zone."""
    out = io.BytesIO()
    _qr(settings, invitation_id, principal).save(out, kind="png", scale=scale, border=QR_BORDER)
    return Response(out.getvalue(), media_type=PNG)
