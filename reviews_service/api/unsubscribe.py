"""The invitation e-mail's opt-out: `GET /r/{token}/unsubscribe` asks (one button, a plain POST form, no
script), `POST` does it. The POST is also RFC 8058's one click, sent by mail clients from the List-Unsubscribe
header with the body `List-Unsubscribe=One-Click`; the body is not needed, so it is not read.

A GET never unsubscribes: mail scanners and link previews open every link of a message. The token is the form
link's own, read even after the form's expiry (an old mail still unsubscribes); a forged one is a 404 page and
changes nothing. Opting out stops this invitation and suppresses the address for every business unit; doing it
again changes nothing. The pages are in the invitation's language, never cached, never indexed, and their
address (a working token) is not sent on as a referrer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import HTMLResponse

from reviews_service import domain, i18n, invitation_store, repository
from reviews_service.api.deps import NowDep, SettingsDep, StateDep
from reviews_service.errors import NotFound
from reviews_service.invitation_links import TokenRefused, read_token
from reviews_service.invitation_mail import FONT, one_line
from reviews_service.invitation_mail import esc as e
from reviews_service.state import ServiceState

# Not in the OpenAPI document: pages for the browser an e-mail opens (a 404 here is a page, not problem+json),
# like the digest's page; the README describes them.
router = APIRouter(tags=["forms"], include_in_schema=False)
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
AcceptLanguage = Annotated[str, Header(include_in_schema=False)]
BODY = f"{FONT};font-size:17px;line-height:1.5;color:#1f2933;max-width:560px;margin:40px auto;padding:0 16px"
BUTTON = (
    f"{FONT};font-size:17px;font-weight:bold;color:#ffffff;background:#0b6e4f;border:0;border-radius:6px;"
    "padding:14px 28px;cursor:pointer"
)


def _page(locale: str, title: str, paragraphs: list[str], form: str = "", status: int = 200) -> HTMLResponse:
    """A small page: a heading, its paragraphs, and the button's form when there is one."""
    body = "".join(f"<p>{e(text)}</p>" for text in paragraphs)
    html = (
        f'<!DOCTYPE html><html lang="{e(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{e(title)}</title></head>'
        f'<body style="{BODY}"><main><h1 style="font-size:26px;line-height:1.25">{e(title)}</h1>{body}{form}</main>'
        "</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _refused(accept_language: str, gone: bool) -> HTMLResponse:
    locale = i18n.pick(accept_language.split(",")[0].split(";")[0].strip()[:20])
    if gone:
        title = i18n.gettext(locale, "This invitation no longer exists")
        detail = i18n.gettext(locale, "Nothing is kept for this link any more, so no e-mail will come from it.")
    else:
        title = i18n.gettext(locale, "This unsubscribe link is not valid")
        detail = i18n.gettext(locale, "It is incomplete or was changed. Open it from the e-mail as it was sent.")
    return _page(locale, title, [detail], status=404)


def _shop(state: ServiceState, invitation: domain.Invitation) -> str:
    try:
        return one_line(repository.get_business_unit(state, invitation.business_unit).name)
    except NotFound:
        return invitation.business_unit


def _invitation(secret: str, token: str, now: datetime) -> domain.Invitation | TokenRefused | None:
    """The token's invitation; None when it no longer exists; the refusal for a forged token."""
    try:
        invitation_id = read_token(secret, token, now=now, allow_expired=True)
    except TokenRefused as refused:
        return refused
    return invitation_store.find_invitation(invitation_id)


def _done(locale: str) -> HTMLResponse:
    return _page(
        locale,
        i18n.gettext(locale, "You are unsubscribed"),
        [
            i18n.gettext(locale, "We will not send this address any more e-mails asking for a review."),
            i18n.gettext(locale, "You can still review your order with the link in the e-mail while it works."),
        ],
    )


@router.get("/r/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(
    token: str, settings: SettingsDep, state: StateDep, now: NowDep, accept_language: AcceptLanguage = ""
) -> HTMLResponse:
    """The opt-out page of an invitation e-mail: one button (a POST form); opening it changes nothing."""
    found = _invitation(settings.secret_key.get_secret_value(), token, now)
    if not isinstance(found, domain.Invitation):
        return _refused(accept_language, gone=found is None)
    locale = i18n.pick(found.locale)
    if found.opted_out_at is not None:
        return _done(locale)
    shop = _shop(state, found)
    form = (
        '<form method="post">'  # to this very address: right behind a proxy that serves us under a path prefix too
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit" style="{BUTTON}">{e(i18n.gettext(locale, "Unsubscribe"))}</button></form>'
    )
    paragraphs = [
        i18n.gettext(locale, "{shop} asks you by e-mail how your order went.", shop=shop),
        i18n.gettext(locale, "Unsubscribe, and we will not send this address any more of them, for any order."),
    ]
    return _page(locale, i18n.gettext(locale, "Unsubscribe from review e-mails"), paragraphs, form)


@router.post("/r/{token}/unsubscribe", response_class=HTMLResponse)
def unsubscribe(token: str, settings: SettingsDep, now: NowDep, accept_language: AcceptLanguage = "") -> HTMLResponse:
    """Opt out (the page's button, or a mail client's RFC 8058 one-click POST): no more invitation e-mails to
    this address from any unit; idempotent."""
    secret = settings.secret_key.get_secret_value()
    found = _invitation(secret, token, now)
    if not isinstance(found, domain.Invitation):
        return _refused(accept_language, gone=found is None)
    try:
        invitation = invitation_store.opt_out(secret, found.id, now)
    except NotFound:  # erased between the two reads
        return _refused(accept_language, gone=True)
    return _done(i18n.pick(invitation.locale))
