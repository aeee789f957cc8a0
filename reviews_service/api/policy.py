"""A unit's review policy (EU Omnibus): how its reviews are collected, checked and moderated, as a page and as JSON.

`GET /reviews/{bu}/about` is the page every widget's info link opens (in the widget's language, `?locale=`, else the
browser's, else the shop's); `GET /v1/business-units/{bu}/review-policy` the same figures as data. Both public and
cacheable; the counts behind them are cached per unit on the instance (`ServiceState.review_counts`) and dropped by
any write to the unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from reviews_service import i18n, policy_page, repository, review_page, review_policy
from reviews_service.api.deps import LIST_CACHE, NowDep, SettingsDep, StateDep, json_response
from reviews_service.api.openapi import HTML, JSON, answers
from reviews_service.cache import etag_matches, strong_etag
from reviews_service.errors import NotFound
from reviews_service.state import ServiceState
from widgets.i18n import pick_locale

router = APIRouter(tags=["public"])
POLICY_CACHE = "public, max-age=300, stale-while-revalidate=3600"


def _policy(state: ServiceState, bu: str) -> review_policy.Policy:
    unit = repository.get_business_unit(state, bu)
    counts = state.review_counts.get(bu)
    if counts is None:
        ticket = state.review_counts.ticket()
        counts = state.review_counts.put(bu, repository.review_counts(bu), ticket)
    return review_policy.build(unit, counts)


def _cacheable(request: Request, response: Response, vary: str = "", cache_control: str = POLICY_CACHE) -> Response:
    """A strong ETag of the body; `If-None-Match` with it gets a 304 and no body."""
    etag = strong_etag(bytes(response.body))
    headers = {"ETag": etag, "Cache-Control": cache_control, **({"Vary": vary} if vary else {})}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


@router.get("/v1/business-units/{bu}/review-policy", **answers(JSON, 404))
def review_policy_json(bu: str, request: Request, state: StateDep, settings: SettingsDep) -> Response:
    """How the unit's reviews are collected and checked: sources (configured and actual) with their verified counts,
    invitations answered per channel, collection methods, and the moderation rule with hidden counts by reason."""
    policy = _policy(state, bu)
    data = review_policy.as_json(policy, review_policy.page_url(settings.public_url, bu))
    return _cacheable(request, json_response(data))


@router.get("/reviews/{bu}/about", **answers(HTML, 404))
def review_policy_page(
    bu: str,
    request: Request,
    state: StateDep,
    settings: SettingsDep,
    now: NowDep,
    locale: Annotated[str | None, Query(description="nl, en, de or fr (another value: as if absent)")] = None,
    accept_language: Annotated[str, Header(include_in_schema=False)] = "",
) -> Response:
    """The unit's review-policy page (EU Omnibus): where its reviews come from, how they are verified, what is hidden
    and why; in the widget's language, else the browser's, else the shop's."""
    policy = _policy(state, bu)
    unit = repository.get_business_unit(state, bu)
    asked = (locale or "")[:20]
    spoken = bool(asked) and i18n.pick(asked) == asked.lower()[:2]
    language = i18n.pick(asked) if spoken else _language(accept_language[:200], unit.locales)
    base = settings.public_url.rstrip("/")
    html = policy_page.render(policy, language, f"{base}/v1/business-units/{bu}/review-policy", _today(now))
    response = Response(
        html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": policy_page.CSP}
    )
    return _cacheable(request, response, vary="" if spoken else "Accept-Language")


def _language(accept_language: str, offered: tuple[str, ...]) -> str:
    """The browser's first language we speak, else the shop's."""
    for part in accept_language.split(",")[:20]:
        language = part.split(";")[0].strip().split("-")[0].lower()
        if language in i18n.LOCALES and not part.replace(" ", "").endswith(";q=0"):
            return language
    return pick_locale(None, offered)


def _today(now: datetime) -> datetime:
    """The day the figures are of (the page changes once a day, not once a second: its ETag holds)."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@router.get("/reviews/{bu}/review/{review_id}", **answers(HTML, 404))
def review_page_html(
    bu: str,
    review_id: str,
    request: Request,
    state: StateDep,
    settings: SettingsDep,
    locale: Annotated[str | None, Query(description="nl, en, de or fr (another value: the shop's language)")] = None,
) -> Response:
    """One published review on a page of its own (the product reviews feed's `singleton` review_url), in the
    shop's language or `?locale=`; a review that is not published (or not this unit's) is a 404."""
    unit = repository.get_business_unit(state, bu)
    if not review_id.startswith(f"{bu}:") or len(review_id) > 300:
        raise NotFound(f"No review with id '{review_id[:80]}' in '{bu}'.")
    review = repository.get_review(review_id)
    if review.business_unit != bu or review.status != "published":
        raise NotFound(f"No review with id '{review_id[:80]}' in '{bu}'.")
    product = repository.products(state, bu, [review.product]).get(review.product) if review.product else None
    asked = (locale or "")[:20]
    language = (
        i18n.pick(asked)
        if asked and i18n.pick(asked) == asked.lower()[:2]
        else i18n.pick(unit.locales[0] if unit.locales else None)
    )
    about = review_policy.page_url(settings.public_url, bu, language)
    html = review_page.render(unit, review, product, language, about_url=about)
    response = Response(
        html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": review_page.CSP}
    )
    # the public reviews' cache, not the policy's: a review hidden or erased leaves shared caches within seconds
    return _cacheable(request, response, cache_control=LIST_CACHE)
