"""Admin routes: business units, catalogue, review ingest and imports, moderation, summaries."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from collectors.csv_import import FORMATS
from reviews_service import domain, imports, ingest, repository, storable
from reviews_service.api.deps import (
    AdminDep,
    NowDep,
    RegistryDep,
    SettingsDep,
    StateDep,
    admin_review_json,
    json_response,
    parse_json,
    read_body,
)
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, UNIT_SAVED_SCHEMA, answers
from reviews_service.complaints import checked_taxonomy
from reviews_service.domain import BusinessUnit as Unit  # `domain` is also a field name of the models below
from reviews_service.domain import InvitationPolicy
from reviews_service.errors import InvalidInput, NotFound
from reviews_service.normalize import MAX_REASON, RecordRejected, clean_reason, clean_text
from reviews_service.source_checks import SourcesChecked, check_for_save
from widgets.i18n import LOCALES

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
SKU = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MAX_RECORDS = 10_000
PRICE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
# schema.org ItemAvailability, as Google reads `offers.availability`
AVAILABILITY = (
    "InStock", "OutOfStock", "PreOrder", "BackOrder", "LimitedAvailability", "OnlineOnly", "InStoreOnly",
    "SoldOut", "Discontinued", "MadeToOrder", "PreSale", "Reserved",
)  # fmt: skip
# A locale the widgets speak, optionally with a region: nl, nl-BE. Checked in a validator, for a plain message.
LOCALE_PATTERN = f"^({'|'.join(LOCALES)})(-[A-Z]{{2}})?$"


class InvitationPolicyIn(BaseModel):
    """When a unit's buyers are asked for reviews (fields left out keep their values)."""

    model_config = ConfigDict(extra="forbid")
    delay_days: float | None = Field(None, ge=0, le=60, description="days from the order to the first mail (0-60)")
    reminder_days: float | None = Field(
        None, ge=0, le=60, description="days from the first mail to the one reminder (0: no reminder; at most 60)"
    )
    expiry_days: int | None = Field(None, ge=1, le=365, description="days from the order the link works (1-365)")


class BusinessUnitChange(BaseModel):
    """Fields of a business unit to set; a field left out (or null) keeps its value."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=253)
    locales: list[Annotated[str, Field(max_length=5, json_schema_extra={"pattern": LOCALE_PATTERN})]] | None = Field(
        None, min_length=1, max_length=20, description=f"widget languages, from: {', '.join(LOCALES)} (e.g. nl-BE)"
    )
    timezone: str | None = Field(None, max_length=64)
    display_scale: Literal[5, 10] | None = None
    sources: dict[str, dict[str, Any]] | None = Field(
        None, description='per source its settings, e.g. {"kiyoh": {"location_id": "..."}}'
    )
    reviews_url: str | None = Field(
        None, max_length=2000, description="page the widgets link to; default https://{domain}/reviews"
    )
    taxonomy: dict[str, Any] | None = Field(
        None, description="complaint taxonomy override (as PUT .../taxonomy takes); {} goes back to the default"
    )
    invitations: InvitationPolicyIn | None = Field(
        None, description="when buyers are asked: delay_days, reminder_days, expiry_days (left-out ones kept)"
    )

    @field_validator("name", "domain")
    @classmethod
    def _storable_text(cls, value: str | None) -> str | None:
        if value is not None and not storable.storable_string(value):
            raise ValueError("must not contain NUL characters or unpaired surrogates")
        return value

    @field_validator("locales")
    @classmethod
    def _supported_locales(cls, value: list[str] | None) -> list[str] | None:
        for locale in value or ():
            if not re.fullmatch(LOCALE_PATTERN, locale):
                raise ValueError(
                    f"locale {locale!r} is not supported; use one of {', '.join(LOCALES)} "
                    "(a region such as nl-BE is allowed)"
                )
        return value

    @field_validator("sources")
    @classmethod
    def _storable_sources(cls, value: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
        if value is not None:
            problem = storable.unstorable(value, "sources")
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("taxonomy")
    @classmethod
    def _valid_taxonomy(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            checked_taxonomy(value)  # ValueError saying where, as a 422
        return value

    @field_validator("reviews_url")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"(https?://[^\s<>\"'`]+|/[^\s<>\"'`]*)", value):
            raise ValueError("must be an http(s) URL or a path starting with /")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Amsterdam") from exc
        return value

    def given(self, current: Unit | None = None) -> dict[str, Any]:
        """The fields this request sets (left-out and null ones excluded); the invitation policy's left-out
        fields are the `current` unit's."""
        fields = {k: v for k, v in self.model_dump(exclude={"slug", "invitations"}).items() if v is not None}
        if self.invitations is not None:
            base = current.invitations if current is not None else InvitationPolicy()
            change = {k: v for k, v in self.invitations.model_dump().items() if v is not None}
            fields["invitations"] = _mailable(dataclasses.replace(base, **change))
        return fields


def _mailable(policy: InvitationPolicy) -> InvitationPolicy:
    """The policy, if its first mail can go out before its link expires (checked on the policy as merged: a
    change of one field may break it with the other's stored value); else a 422 naming both values."""
    if policy.delay_days >= policy.expiry_days:
        raise InvalidInput(
            f"invitations: delay_days ({policy.delay_days:g}) must be less than expiry_days ({policy.expiry_days}): "
            "the first mail would be due when its link has already expired, so no invitation could be mailed."
        )
    return policy


class BusinessUnitIn(BusinessUnitChange):
    """A storefront to create (slug and name) or update (slug and the fields to change)."""

    slug: str = Field(pattern=SLUG, description="lowercase letters, digits and '-', e.g. flinders-nl")


class ProductIn(BaseModel):
    """A catalogue item; `sku` is its id within the business unit."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sku: str = Field(pattern=SKU)
    name: str = Field(min_length=1, max_length=300)
    url: str = Field("", max_length=2000)
    image: str = Field("", max_length=2000)
    gtin: str = Field("", max_length=14)
    mpn: str = Field("", max_length=70, description="the manufacturer's part number (Google's limit: 70 characters)")
    brand: str = Field("", max_length=200)
    price: str = Field("", description="what it costs, at most 2 decimals: `249.00` or `249.9`; empty for no price")
    currency: str = Field("EUR", description="the price's ISO 4217 currency code")
    availability: str = Field("", description=f"one of {', '.join(AVAILABILITY)} (schema.org); empty if unknown")

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> str:
        """Text or a JSON number in, the 2-decimal text the JSON-LD carries out ("249.90")."""
        if value is None or value == "":
            return ""
        text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
        if not PRICE.match(text):
            shown = str(value)[:30]
            raise ValueError(
                f"price must be an amount of at least 0 with at most 2 decimals, such as 249.00 (not {shown!r})"
            )
        return f"{Decimal(text):.2f}"

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> str:
        code = value.strip().upper() if isinstance(value, str) else ""
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"currency must be a 3-letter ISO 4217 code such as EUR (not {str(value)[:30]!r})")
        return code

    @field_validator("availability", mode="before")
    @classmethod
    def _availability(cls, value: Any) -> str:
        name = re.sub(r"^https?://schema\.org/", "", value.strip()) if isinstance(value, str) else None
        if name not in ("", *AVAILABILITY):
            raise ValueError(f"availability must be one of {', '.join(AVAILABILITY)} (not {str(value)[:30]!r})")
        return name

    @field_validator("gtin")
    @classmethod
    def _valid_gtin(cls, value: str) -> str:
        if value and not _gtin_ok(value):
            raise ValueError("gtin must be 8, 12, 13 or 14 digits with a valid check digit")
        return value

    @field_validator("url", "image")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s<>\"']+$", value):
            raise ValueError("must be an http(s) URL")
        return value


def _gtin_ok(value: str) -> bool:
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in value]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


class ModerationIn(BaseModel):
    """What a moderator changes: the status (pending, hidden or removed needs a reason), the public reply, or both."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["published", "hidden", "pending", "removed"] | None = None
    reply: str | None = Field(None, max_length=5000, description="empty string removes the reply")
    reason: str | None = Field(
        None,
        max_length=MAX_REASON,
        description="why it is held back (pending), hidden or removed: required for those; admin only, never public",
    )
    category: domain.ModerationCategory | None = Field(
        None, description="the reason's kind, counted on the public review-policy page (default other)"
    )

    @field_validator("reason")
    @classmethod
    def _clean_reason(cls, value: str | None) -> str | None:
        return clean_reason(value)


@router.post(
    "/business-units", **answers(JSON, 400, *ADMIN_ERRORS, 413, 415, 422, created=True, schema=UNIT_SAVED_SCHEMA)
)
def upsert_business_unit(
    body: BusinessUnitIn, principal: AdminDep, state: StateDep, settings: SettingsDep, registry: RegistryDep
) -> Response:
    """Create a business unit (slug and name required), or update the fields given; the rest keep their values.
    Given `sources` are checked against their platforms first (see `warnings`)."""
    principal.require_global()
    try:
        current: domain.BusinessUnit | None = repository.get_business_unit(state, body.slug)
    except NotFound:
        current = None
    checked = check_for_save(state, settings, registry, current, body.slug, body.given(current))
    unit, created = repository.update_business_unit(state, body.slug, body.given(current))
    return json_response({**_saved(unit, checked), "created": created}, status=201 if created else 200)


@router.get("/business-units", **answers(JSON, 401))
def list_business_units(principal: AdminDep) -> Response:
    """Every business unit (a scoped token sees its own)."""
    units = [u for u in repository.list_business_units() if principal.business_unit in (None, u.slug)]
    return json_response({"items": [_unit_json(u) for u in units]})


@router.get("/business-units/{bu}", **answers(JSON, *ADMIN_ERRORS, 404))
def get_business_unit(bu: str, principal: AdminDep, state: StateDep) -> Response:
    """One business unit's settings."""
    principal.require(bu)
    return json_response(_unit_json(repository.get_business_unit(state, bu)))


@router.patch("/business-units/{bu}", **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 415, 422, schema=UNIT_SAVED_SCHEMA))
def patch_business_unit(
    bu: str, body: BusinessUnitChange, principal: AdminDep, state: StateDep, settings: SettingsDep,
    registry: RegistryDep,
) -> Response:  # fmt: skip
    """Change the fields given of an existing business unit; the rest keep their values (`sources` checked
    first, as in POST)."""
    principal.require_global()
    current = repository.get_business_unit(state, bu)  # 404 before any platform is asked
    checked = check_for_save(state, settings, registry, current, bu, body.given(current))
    unit, _ = repository.update_business_unit(state, bu, body.given(current), create=False)
    return json_response(_saved(unit, checked))


def _saved(unit: domain.BusinessUnit, checked: SourcesChecked) -> dict[str, Any]:
    checked.keep_found(unit.slug)
    return {**_unit_json(unit), "warnings": checked.warnings}


def _unit_json(unit: domain.BusinessUnit) -> dict[str, Any]:
    return {
        "slug": unit.slug,
        "name": unit.name,
        "domain": unit.domain,
        "locales": list(unit.locales),
        "timezone": unit.timezone,
        "display_scale": unit.display_scale,
        "sources": unit.sources,
        "reviews_url": unit.reviews_url,
        "reviews_link": unit.reviews_link,  # what the widgets link to (reviews_url, or derived from domain)
        "taxonomy": unit.taxonomy,
        "invitations": dataclasses.asdict(unit.invitations),
    }


@router.post("/business-units/{bu}/products", **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 415, 422))
def upsert_products(
    bu: str, principal: AdminDep, state: StateDep, body: Annotated[ProductIn | list[ProductIn], Body()]
) -> Response:
    """Create or update products: one object or a list."""
    principal.require(bu)
    repository.get_business_unit(state, bu)
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_RECORDS:
        raise InvalidInput(f"At most {MAX_RECORDS:,} products per request; got {len(items):,}.")
    products = [domain.Product(business_unit=bu, **p.model_dump()) for p in items]
    created, updated = repository.save_products(state, products)
    return json_response({"created": created, "updated": updated})


@router.get("/business-units/{bu}/products", **answers(JSON, *ADMIN_ERRORS, 404))
def list_products(bu: str, principal: AdminDep, state: StateDep) -> Response:
    """The business unit's catalogue."""
    principal.require(bu)
    repository.get_business_unit(state, bu)
    products = sorted(repository.catalogue(bu).values(), key=lambda p: p.sku)
    return json_response({"items": [{k: v for k, v in vars(p).items() if k != "business_unit"} for p in products]})


REVIEWS_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            'Review records (a list, one object, or `{"reviews": [...]}`). Text is stored as written (plain '
            "text, escaped on output). Fields not listed here are not stored: the answer counts them per name in "
            '`ignored_fields`, e.g. `{"colour": 3}`. Rejected records come back in `rejections` with their index.'
        ),
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "maxItems": MAX_RECORDS,
                    "items": {
                        "type": "object",
                        "required": ["external_id", "rating", "created_at"],
                        "properties": {
                            "source": {"type": "string", "default": "api"},
                            "external_id": {"type": "string"},
                            "rating": {
                                "type": "number",
                                "enum": [1, 2, 3, 4, 5],
                                "description": 'whole stars; 5, 5.0 and "5" are the same',
                            },
                            "title": {"type": "string"},
                            "text": {"type": "string"},
                            "author": {"type": "string", "description": "display name"},
                            "created_at": {"type": "string", "format": "date-time"},
                            "language": {
                                "type": "string",
                                "description": "nl, en, de or fr (e.g. nl-BE); guessed from the text when absent",
                            },
                            "product": {"type": "string", "description": "sku; absent for a shop review"},
                            "verified": {"type": "boolean"},
                            "email": {"type": "string", "description": "kept for invitations and erasure"},
                            "order_ref": {"type": "string"},
                            "status": {
                                "enum": ["published", "pending", "hidden"],
                                "description": "absent means published",
                            },
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/business-units/{bu}/reviews",
    **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 422),
    openapi_extra=REVIEWS_BODY,
)
async def ingest_reviews(
    bu: str, request: Request, principal: AdminDep, settings: SettingsDep, now: NowDep, state: StateDep
) -> Response:
    """Ingest reviews (a list, or `{"reviews": [...]}`); idempotent by (source, external_id)."""
    principal.require(bu)
    payload = parse_json(await read_body(request, settings))
    if isinstance(payload, dict) and isinstance(payload.get("reviews"), list):
        payload = payload["reviews"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise InvalidInput("Send a JSON list of review objects (or one object).")
    if len(payload) > MAX_RECORDS:
        raise InvalidInput(f"At most {MAX_RECORDS:,} reviews per request; got {len(payload):,}. Split the batch.")
    report = await run_in_threadpool(
        ingest.ingest,
        state,
        bu,
        payload,
        now=now,
        max_text=settings.max_text_chars,
        default_source="api",
        settings=settings,
    )
    return json_response(report.as_dict())


@router.post(
    "/business-units/{bu}/imports",
    **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_file(
    bu: str,
    request: Request,
    principal: AdminDep,
    settings: SettingsDep,
    now: NowDep,
    state: StateDep,
    format: Annotated[Literal["trustpilot-csv", "generic-csv", "jsonl"], Query()] = "trustpilot-csv",
) -> Response:
    """Import a CSV or JSON-lines file (the body as it is); answers inserted/updated/unchanged/rejected."""
    principal.require(bu)
    assert format in FORMATS
    body = await read_body(request, settings)
    if not body.strip():
        raise InvalidInput("The request body is empty; send the file's bytes as the body.", status=400)
    report = await run_in_threadpool(
        imports.run_import, state, bu, body, format, now=now, max_text=settings.max_text_chars
    )
    return json_response({"format": format, **report.as_dict()})


@router.get("/reviews/{review_id:path}", **answers(JSON, *ADMIN_ERRORS, 404))
def get_review(review_id: str, principal: AdminDep, settings: SettingsDep) -> Response:
    """One review with its status and personal data (admin only)."""
    review = repository.get_review(review_id)
    principal.require(review.business_unit)
    return json_response(admin_review_json(review, settings.public_url))


@router.patch("/reviews/{review_id:path}", **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 415, 422))
def moderate_review(
    review_id: str, body: ModerationIn, principal: AdminDep, now: NowDep, state: StateDep, settings: SettingsDep
) -> Response:
    """Hide, publish or reply to a review; the summaries follow at once. Pending, hidden or removed needs a `reason`,
    kept with who (the token's name) and when in `moderation` (admin answers only)."""
    review = repository.get_review(review_id)
    principal.require(review.business_unit)
    if body.status is None and body.reply is None:
        raise InvalidInput("Send `status` and/or `reply`.")
    reply = None if body.reply is None else _clean_reply(body.reply)
    updated = ingest.moderate(
        state, review_id, status=body.status, reply=reply, now=now,
        reason=body.reason, category=body.category, by=principal.name,
    )  # fmt: skip
    return json_response(admin_review_json(updated, settings.public_url))


def _clean_reply(reply: str) -> str:
    try:
        return clean_text(reply, "reply", 5000)
    except RecordRejected as exc:
        raise InvalidInput(str(exc)) from exc


@router.post("/summaries/rebuild", **answers(JSON, *ADMIN_ERRORS, 404))
def rebuild_summaries(
    principal: AdminDep, now: NowDep, state: StateDep, business_unit: Annotated[str | None, Query()] = None
) -> Response:
    """Recompute summaries from the reviews and report any that differed from the incremental ones."""
    if business_unit is None:
        principal.require_global()
    else:
        principal.require(business_unit)
        repository.get_business_unit(state, business_unit)
    return json_response(ingest.rebuild_summaries(state, business_unit, now=now))
