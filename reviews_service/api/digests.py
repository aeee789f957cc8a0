"""The daily digest over HTTP: JSON or the e-mail's HTML for admins, a re-send on request, and the web page the
e-mail links to (a signed, expiring link: no admin token in a browser)."""

from __future__ import annotations

import base64
import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse, Response

from reviews_service import digest_chart, digest_links, digest_render, digest_store, digests, i18n
from reviews_service.api.deps import AdminDep, NowDep, SettingsDep, StateDep, json_response
from reviews_service.api.openapi import ADMIN_ERRORS, BEARER, HTML, JSON, answers
from reviews_service.digest_words import Words
from reviews_service.errors import InvalidInput, NotFound
from sentiment.digest import Digest

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[BEARER])
pages = APIRouter(tags=["digest"])
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# the signed page: never cached on the way, never indexed, and its address (which works for a week) is not sent
# on to the sites its links lead to
PAGE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def parse_day(text: str) -> date:
    """A digest's date as YYYY-MM-DD; InvalidInput (422) saying the form otherwise."""
    try:
        if not DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
        if not 2000 <= day.year <= 2100:
            raise ValueError(text)
    except ValueError:
        raise InvalidInput(f"{text[:40]!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-19 (years 2000-2100)") from None
    return day


def _png_inline(digest: Digest) -> str:
    """The chart as the e-mail shows it, but inline (data:) so that a browser shows it too."""
    data = base64.b64encode(digest_chart.png(digest)).decode()
    alt = digest_render.esc(Words(digest).chart_title())
    style = "display:block;width:100%;height:auto"
    return f'<img src="data:image/png;base64,{data}" width="600" alt="{alt}" style="{style}">'


@router.get("/business-units/{bu}/digests/{day}", **answers(JSON, *ADMIN_ERRORS, 404, 422, also=(HTML,)))
def get_digest(
    bu: str,
    day: str,
    principal: AdminDep,
    settings: SettingsDep,
    state: StateDep,
    now: NowDep,
    accept: Annotated[str, Header(include_in_schema=False)] = "",
) -> Response:
    """The unit's digest of one day (its own time zone) as JSON; `Accept: text/html` gives the e-mail's HTML."""
    principal.require(bu)
    when = parse_day(day)
    digest = digests.build(state, bu, when, now=now)
    where = digests.links(settings, digest, now=now)
    if "text/html" in accept and "application/json" not in accept:
        return HTMLResponse(digest_render.html(digest, where, _png_inline(digest)))
    sent = digest_store.send_state(bu, when)
    body = digest_render.json_view(digest, where)
    body["delivery"] = {"status": sent.status, "sends": sent.sends, "sent_at": sent.sent_at, "error": sent.last_error}
    return json_response(body)


@router.post("/business-units/{bu}/digests/{day}/send", **answers(JSON, *ADMIN_ERRORS, 404, 422, 502, 503))
def send_digest(
    bu: str, day: str, principal: AdminDep, settings: SettingsDep, state: StateDep, now: NowDep
) -> Response:
    """Send the unit's digest of one day to DIGEST_RECIPIENTS now (again, if it was sent before)."""
    principal.require(bu)
    when = parse_day(day)
    digest = digests.send(state, settings, bu, when, now=now)
    sent = digest_store.send_state(bu, when)
    recipients = len(digests.recipients(settings))
    body = {"business_unit": bu, "date": digest.day.isoformat(), "recipients": recipients, "sends": sent.sends}
    return json_response(body)


def _refusal(locale: str, reason: str, status: int) -> HTMLResponse:
    """A plain page saying why the link does not open, in the unit's language when it is known."""
    if reason == "expired":
        title = i18n.gettext(locale, "This link has expired")
        detail = i18n.gettext(
            locale, "Digest links work for 7 days. Open the digest from a newer e-mail, or ask for it to be sent again."
        )
    elif reason == "forged":
        title = i18n.gettext(locale, "This link is not valid")
        detail = i18n.gettext(locale, "The link is incomplete or was changed. Open it from the e-mail as it was sent.")
    else:
        title = i18n.gettext(locale, "This digest does not exist")
        detail = i18n.gettext(locale, "Its shop is no longer known to the reviews service.")
    page = (
        f'<!DOCTYPE html><html lang="{digest_render.esc(i18n.pick(locale))}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{digest_render.esc(title)}</title>'
        f'</head><body style="{digest_render.CELL};max-width:600px;margin:40px auto;padding:0 16px">'
        f"<h1>{digest_render.esc(title)}</h1><p>{digest_render.esc(detail)}</p></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)


# Not in the OpenAPI document: a page for the browser the e-mail opens, not an API (like the demo pages).
@pages.get("/digests/{bu}/{day}", response_class=HTMLResponse, include_in_schema=False)
def digest_page(
    bu: str,
    day: str,
    settings: SettingsDep,
    state: StateDep,
    now: NowDep,
    exp: Annotated[str, Query()] = "",  # any length: a wrong one is a forged link (403), checked in digest_links
    sig: Annotated[str, Query()] = "",
    accept_language: Annotated[str, Header(include_in_schema=False)] = "",
) -> Response:
    """The digest's web page, opened from the e-mail's signed link (valid 7 days); 403 for a forged or expired one."""
    secret = settings.secret_key.get_secret_value()
    language = i18n.pick(accept_language.split(",")[0].split(";")[0].strip()[:20])  # the refusals' language
    try:
        when = parse_day(day)
    except InvalidInput:
        return _refusal(language, "forged", 403)  # a signed link always carries a good date
    refused = digest_links.check(secret, bu, when, exp, sig, now=now)
    if refused:
        return _refusal(language, refused, 403)
    try:
        digest = digests.build(state, bu, when, now=now)
    except NotFound:
        return _refusal(language, "unknown", 404)
    where = digest_links.Links(settings.public_url.rstrip("/"), page="", expires=now)  # the page has no footer link
    chart = digest_chart.svg(digest, Words(digest).chart_title())
    return HTMLResponse(digest_render.html(digest, where, chart, web=True), headers=PAGE_HEADERS)
