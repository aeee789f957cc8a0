"""schema.org JSON-LD for SEO pipelines and page templates, and the review-markup validator."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from reviews_service import repository
from reviews_service.api import conditional
from reviews_service.api.deps import NowDep, SettingsDep, StateDep, parse_json, problem_response, read_body
from reviews_service.api.openapi import HTML, JSON, LD, NDJSON, answers
from reviews_service.api.stale import fresh_or_stale
from reviews_service.cache import etag_matches, strong_etag
from reviews_service.errors import InvalidInput
from reviews_service.state import ServiceState
from seo import budget, jsonld, product_reviews, validate
from widgets import i18n

router = APIRouter(prefix="/seo", tags=["seo"])
SEO_CACHE = "public, max-age=300, stale-while-revalidate=3600"
Format = Annotated[Literal["json", "html"], Query(description="`html`: the <script> element for templates")]
FETCH_SECONDS = 10.0  # the default of REVIEWS_VALIDATE_FETCH_SECONDS
XML = "application/xml"
ReviewCount = Annotated[int, Query(ge=0, le=20, description="how many latest reviews to include")]


def _answer(request: Request, data: dict[str, Any], fmt: str, extra: dict[str, str] | None = None) -> Response:
    text = jsonld.script_element(data) if fmt == "html" else jsonld.dumps(data)
    etag = strong_etag(text.encode())
    headers = {"ETag": etag, "Cache-Control": SEO_CACHE, "Access-Control-Allow-Origin": "*", **(extra or {})}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    media = "text/html; charset=utf-8" if fmt == "html" else f"{LD}; charset=utf-8"
    return Response(text, media_type=media, headers=headers)


def product_jsonld(
    state: ServiceState, bu: str, sku: str, reviews: int = 5, locale: str | None = None
) -> dict[str, Any]:
    """The Product markup of one sku: the same figures and latest reviews the widgets show."""
    unit = repository.get_business_unit(state, bu)
    item = repository.get_product(state, bu, sku)
    latest = repository.list_published(state, bu, limit=reviews, product=sku).items if reviews else []
    return jsonld.product(unit, item, repository.get_summary(state, bu, sku), latest, locale)


@router.get("/{bu}/products/{sku}.jsonld", **answers(LD, 404, 422, also=(HTML,)))
def product(
    bu: str,
    sku: str,
    request: Request,
    state: StateDep,
    format: Format = "json",
    reviews: ReviewCount = 5,
    locale: str | None = None,
) -> Response:
    """schema.org Product + AggregateRating + Review (no aggregateRating while it has no reviews)."""

    def build() -> Response:
        return _answer(request, product_jsonld(state, bu, sku, reviews, locale), format)

    language = (locale or "").lower()[:2]  # what product_jsonld speaks (widgets.i18n.pick_locale), bounded
    variant = f"{format}&{reviews}&{language if language in i18n.LOCALES else ''}"
    return fresh_or_stale(request, state, bu, build, variant)  # while the store is down: the last one, stale


@router.get("/{bu}/organization.jsonld", **answers(LD, 404, 422, also=(HTML,)))
def organization(bu: str, request: Request, state: StateDep, format: Format = "json") -> Response:
    """schema.org Organization: valid, but Google shows no stars for it on the shop's own site (X-Rich-Results)."""

    def build() -> Response:
        unit = repository.get_business_unit(state, bu)
        data = jsonld.organization(unit, repository.get_summary(state, bu))
        return _answer(request, data, format, {"X-Rich-Results": jsonld.SELF_SERVING_NOTE})

    return fresh_or_stale(request, state, bu, build, format)


def _export_lines(state: ServiceState, bu: str, reviews: int, locale: str | None) -> Iterator[bytes]:
    unit = repository.get_business_unit(state, bu)
    lang = i18n.pick_locale(locale, unit.locales)
    for page in repository.catalogue_pages(bu):
        skus = [p.sku for p in page]
        summaries = repository.summaries_for(state, bu, skus)
        # only products whose summary counts published reviews: the others have none to list
        latest = repository.latest_product_reviews(bu, [s for s in skus if summaries[s].count], reviews)
        chunk = [
            jsonld.dumps(jsonld.product(unit, p, summaries[p.sku], latest.get(p.sku, []), lang)) + "\n" for p in page
        ]
        yield "".join(chunk).encode()


@router.get("/{bu}/export.ndjson", **answers(NDJSON, 404, 422))
def export(
    bu: str,
    request: Request,
    state: StateDep,
    now: NowDep,
    reviews: ReviewCount = 3,
    locale: str | None = None,
) -> Response:
    """Every product's JSON-LD, one per line, streamed; ETag/Last-Modified answer "changed since?" with 304."""
    unit = repository.get_business_unit(state, bu)
    changed = repository.changed_at(bu)
    stamp = int(changed.timestamp() * 1000) if changed else 0
    # Only validated values go into the header: the stored slug and the locale actually rendered.
    etag = f'"{unit.slug}-{stamp}-{reviews}-{i18n.pick_locale(locale, unit.locales)}"'
    headers = conditional.validators(etag, changed, now)
    if conditional.not_modified(request, etag, changed):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(
        _export_lines(state, bu, reviews, locale), media_type="application/x-ndjson; charset=utf-8", headers=headers
    )


def _feed_chunks(state: ServiceState, bu: str, service_url: str) -> Iterator[bytes]:
    unit = repository.get_business_unit(state, bu)
    for chunk in product_reviews.feed(unit, repository.product_review_batches(bu), service_url):
        yield chunk.encode()


@router.get("/{bu}/product-reviews.xml", **answers(XML, 404))
def product_reviews_feed(bu: str, request: Request, state: StateDep, settings: SettingsDep, now: NowDep) -> Response:
    """Google's product reviews feed (schema 2.4): every published product review with text, streamed, never cut
    short (Google deletes the reviews a full feed leaves out); ETag/Last-Modified answer "changed since?" with 304."""
    unit = repository.get_business_unit(state, bu)
    changed = repository.changed_at(bu)
    stamp = int(changed.timestamp() * 1000) if changed else 0
    # Any write to the unit's reviews, catalogue or settings moves changed_at, so the tag moves with it; so do a new
    # way of writing the feed and a new REVIEWS_PUBLIC_URL (its links are built on it) after a redeploy.
    base = hashlib.sha256(settings.public_url.encode()).hexdigest()[:12]
    etag = f'"{unit.slug}-reviews-{product_reviews.VERSION}-{product_reviews.FORMAT}-{base}-{stamp}"'
    headers = conditional.validators(etag, changed, now)
    if conditional.not_modified(request, etag, changed):
        return Response(status_code=304, headers=headers)
    chunks = _feed_chunks(state, bu, settings.public_url)
    return StreamingResponse(chunks, media_type=f"{XML}; charset=utf-8", headers=headers)


@router.post(
    "/validate",
    **answers(JSON, 400, 413, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {"type": "object", "properties": {"url": {"type": "string"}, "html": {"type": "string"}}}
                },
            },
        }
    },
)
async def validate_page(request: Request, settings: SettingsDep) -> Response:
    """Check a page's review markup (HTML body, or JSON `{"url": ...}`) against Google's review-snippet rules."""
    body = await read_body(request, settings)
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        payload = parse_json(body)
        if not isinstance(payload, dict) or not (payload.get("url") or payload.get("html")):
            raise InvalidInput('Send HTML as the body, or JSON {"url": "https://..."} or {"html": "..."}.')
        if payload.get("html"):
            html = str(payload["html"])
        else:
            gate = request.app.state.limits.validate_fetches
            if not gate.enter():  # URL fetches wait on other sites: a few at once, never a queue
                answer = problem_response(
                    503, "Busy", "Too many pages are being fetched right now; try again shortly.", "busy"
                )
                answer.headers["Retry-After"] = "5"
                return answer
            try:
                html = await fetch_page_async(
                    str(payload["url"]), settings.validate_private_urls, settings.validate_fetch_seconds
                )
            finally:
                gate.leave()
    else:
        if not body.strip():
            raise InvalidInput('Send the page\'s HTML as the body, or JSON {"url": ...}.', status=400)
        html = body.decode("utf-8", "replace")
    report = await run_in_threadpool(validate.validate_html, html)
    return Response(budget.dumps(report), media_type="application/json")


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%")[0]).is_global


def fetch_page(url: str, allow_private: bool = False, deadline: float = FETCH_SECONDS) -> str:
    """fetch_page_async for synchronous callers (the CLI)."""
    return asyncio.run(fetch_page_async(url, allow_private, deadline))


async def fetch_page_async(url: str, allow_private: bool = False, deadline: float = FETCH_SECONDS) -> str:
    """GET a public http(s) page for validation within `deadline` seconds in all (private addresses refused
    unless allowed).

    httpx's timeouts are per phase, so a server trickling a byte at a time would never trip them: the
    whole fetch, name lookup included, runs under one deadline. The host name is resolved once, and the
    request goes to that very address (Host header and TLS server name still the page's), so a DNS
    answer that changes between the check and the connection (DNS rebinding) cannot steer the request
    to an internal address.
    """
    try:
        with anyio.fail_after(deadline):
            return await _fetch(url, allow_private)
    except TimeoutError as exc:
        raise InvalidInput(f"Could not fetch {url}: no complete answer within {deadline:g} s.") from exc


async def _fetch(url: str, allow_private: bool) -> str:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, say
        hostname = None
    if not hostname or parts.scheme not in ("http", "https"):
        raise InvalidInput("url must be an http(s) URL such as https://shop.example/product")
    try:
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")  # IDNA-encoded
        port = target.port or (443 if parts.scheme == "https" else 80)
        infos = await anyio.to_thread.run_sync(
            partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM), abandon_on_cancel=True
        )
        addresses = [str(info[4][0]) for info in infos]
    except (OSError, UnicodeError, httpx.InvalidURL) as exc:
        raise InvalidInput(f"Cannot resolve {parts.hostname}: {exc}") from exc
    if not allow_private and not all(_is_public(a) for a in addresses):
        raise InvalidInput(f"{parts.hostname} is a private or local address; send the page's HTML instead.")
    pinned = target.copy_with(host=addresses[0])
    headers = {"Host": target.netloc.decode("ascii")}  # host[:port], never user info
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        async with (
            httpx.AsyncClient(timeout=10, follow_redirects=False) as client,
            client.stream("GET", pinned, headers=headers, extensions=extensions) as response,
        ):
            if response.status_code != 200:
                raise InvalidInput(f"{url} answered {response.status_code}; validate a page that answers 200.")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > validate.MAX_HTML:
                    raise InvalidInput(f"{url} is over {validate.MAX_HTML:,} bytes.", status=413)
                chunks.append(chunk)
            return b"".join(chunks).decode(response.encoding or "utf-8", "replace")
    except httpx.HTTPError as exc:
        raise InvalidInput(f"Could not fetch {url}: {exc}") from exc
