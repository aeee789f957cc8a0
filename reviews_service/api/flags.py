"""Admin routes for flags: a unit's list (newest first, keyset-paginated) and a moderator resolving one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from reviews_service import domain, flag_store, repository
from reviews_service.api.deps import AdminDep, NowDep, SettingsDep, StateDep, iso, json_response, review_json
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, JSON, answers
from reviews_service.flag_reasons import reason
from reviews_service.i18n import pick
from reviews_service.normalize import RecordRejected, clean_text

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
Kind = Literal["one-star", "outlier", "mismatch", "score-drop", "burst"]
MAX_NOTE = 2000


class FlagChange(BaseModel):
    """A moderator's decision on a flag: resolve it (or open it again), with an optional note."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["resolved", "open"]
    note: str | None = Field(None, max_length=MAX_NOTE, description="why, or what was done; empty removes it")

    @field_validator("note")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return clean_text(value, "note", MAX_NOTE)
        except RecordRejected as exc:
            raise ValueError(str(exc)) from exc


def flag_json(
    flag: domain.Flag, locale: str, review: domain.Review | None = None, base_url: str = ""
) -> dict[str, Any]:
    """The admin shape of a flag, its reason in `locale`; `review` as the public API shows it (photo URLs on
    `base_url`), when given."""
    return {
        "id": flag.id,
        "business_unit": flag.business_unit,
        "kind": flag.kind,
        "reason": reason(flag, locale),
        "details": flag.details,
        "review_id": flag.review_id,
        "product": flag.product,
        "review": None if review is None else review_json(review, base_url=base_url),
        "status": flag.status,
        "note": flag.note,
        "created_at": iso(flag.created_at),
        "resolved_at": iso(flag.resolved_at),
        "resolved_by": flag.resolved_by,
        "alert": {
            "status": flag.alert,
            "attempts": flag.alert_attempts,
            "error": flag.alert_error,
            "sent_at": iso(flag.alert_sent_at),
        },
    }


@router.get("/business-units/{bu}/flags", **answers(JSON, *ADMIN_ERRORS, 404, 422))
def list_flags(
    bu: str,
    principal: AdminDep,
    state: StateDep,
    settings: SettingsDep,
    status: Annotated[Literal["open", "resolved"], Query()] = "open",
    kind: Annotated[Kind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
    locale: Annotated[str | None, Query(pattern=r"^[a-z]{2}([-_][A-Za-z]{2})?$", description="reasons in")] = None,
) -> Response:
    """One-star reviews, outliers, mismatches, score drops and bursts, newest first, each with its reason."""
    principal.require(bu)
    unit = repository.get_business_unit(state, bu)
    language = pick(locale or (unit.locales[0] if unit.locales else None))
    page = flag_store.list_flags(bu, status=status, kind=kind, limit=limit, cursor=cursor)
    reviews = repository.reviews_by_id(f.review_id for f in page.items if f.review_id)
    items = [flag_json(f, language, reviews.get(f.review_id or ""), settings.public_url) for f in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor, "locale": language})


@router.patch("/flags/{flag_id:path}", **answers(JSON, 400, *ADMIN_ERRORS, 404, 413, 415, 422))
def change_flag(
    flag_id: str, body: FlagChange, principal: AdminDep, state: StateDep, now: NowDep, locale: str | None = None
) -> Response:
    """Resolve a flag (or open it again), with a note; who and when are recorded."""
    flag = flag_store.get_flag(flag_id)
    principal.require(flag.business_unit)
    changed = flag_store.set_status(flag_id, status=body.status, note=body.note, by=principal.name, now=now)
    unit = repository.get_business_unit(state, flag.business_unit)
    language = pick(locale or (unit.locales[0] if unit.locales else None))
    return json_response(flag_json(changed, language))
