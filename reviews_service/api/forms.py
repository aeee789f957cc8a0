"""The review form a buyer opens from an invitation: `GET`/`POST /r/{token}` and `GET /r/{token}/thanks`.

Pages for a person's browser, not an API (outside the OpenAPI document, like the digest page): every answer is
HTML in the invitation's language. The token is in the address, so no page is cached, indexed or named in a
Referer to the sites its links lead to.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from collectors import forms
from reviews_service import (
    domain,
    form_input,
    form_pages,
    form_render,
    form_submit,
    i18n,
    invitation_links,
    invitation_store,
    repository,
)
from reviews_service.api.deps import NowDep, SettingsDep, StateDep
from reviews_service.config import Settings
from reviews_service.errors import NotFound
from reviews_service.form_input import GENERAL, Checked, Entry, Upload
from reviews_service.form_pages import PAGE_HEADERS
from reviews_service.limits import Limits
from reviews_service.state import ServiceState

router = APIRouter(tags=["forms"], include_in_schema=False)
MAX_PART = 64 * 1024  # bytes of one text field: 5,000 characters of 4-byte UTF-8 with room to spare
AcceptLanguage = Annotated[str, Header(include_in_schema=False)]


class Opened:
    """A form link that opens: its invitation, its unit, and the order's products the catalogue knows."""

    def __init__(self, token: str, invitation: domain.Invitation, bu: domain.BusinessUnit) -> None:
        self.token = token
        self.invitation = invitation
        self.bu = bu
        self.locale = i18n.pick(invitation.locale)
        self.action = f"/r/{token}"
        self.products: dict[str, domain.Product] = {}

    @property
    def offered(self) -> list[str]:
        """The order's products on the form, in the order's order (a product gone from the catalogue is not)."""
        return [sku for sku in dict.fromkeys(self.invitation.products) if sku in self.products]


def _page(html: str, status: int = 200, **headers: str) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **headers})


def _open(settings: Settings, state: ServiceState, token: str, now: datetime, accept: str) -> Opened | Response:
    """The invitation a token opens, or the page that says why it does not (404 forged/unknown, 410 expired)."""
    secret = settings.secret_key.get_secret_value()
    try:
        invitation_id = invitation_links.read_token(secret, token, now=now)
    except invitation_links.TokenRefused as refused:
        locale = form_pages.accept_language(accept)
        if refused.reason == "expired":  # genuine, so its invitation (if still kept) tells the language
            kept_id = invitation_links.read_token(secret, token, now=now, allow_expired=True)
            known = invitation_store.find_invitation(kept_id)
            locale = i18n.pick(known.locale) if known else locale
            return _page(form_pages.refusal(locale, "expired"), 410)
        return _page(form_pages.refusal(locale, "forged"), 404)
    invitation = invitation_store.find_invitation(invitation_id)
    if invitation is None:  # erased, or never stored
        return _page(form_pages.refusal(form_pages.accept_language(accept), "unknown"), 404)
    if now >= invitation.expires_at:
        return _page(form_pages.refusal(i18n.pick(invitation.locale), "expired"), 410)
    try:
        bu = repository.get_business_unit(state, invitation.business_unit)
    except NotFound:
        return _page(form_pages.refusal(i18n.pick(invitation.locale), "unknown"), 404)
    opened = Opened(token, invitation, bu)
    opened.products = repository.products(state, bu.slug, invitation.products)
    return opened


def _view(opened: Opened, values: dict[str | None, Entry], earlier: dict[str, domain.Review], **extra: object) -> str:
    ids = forms.review_ids(opened.invitation, opened.offered)
    kept = {sku: len(earlier[ids[sku]].photos) for sku in opened.offered if ids[sku] in earlier}
    view = form_render.FormView(
        locale=opened.locale,
        action=opened.action,
        shop=opened.bu.name,
        products=[(sku, opened.products[sku].name or sku) for sku in opened.offered],
        values=values,
        author=forms.display_name(opened.invitation.name),
        earlier_photos={sku: n for sku, n in kept.items() if n},
        reviewed_at=opened.invitation.reviewed_at,
        **extra,  # type: ignore[arg-type]
    )
    return form_render.page(view)


def _earlier_values(opened: Opened, earlier: dict[str, domain.Review]) -> dict[str | None, Entry]:
    values: dict[str | None, Entry] = {}
    for sku in (None, *opened.offered):
        review = earlier.get(forms.review_id(opened.invitation, sku))
        values[sku] = Entry(str(review.rating), review.title, review.text) if review else Entry()
    return values


@router.get("/r/{token}", response_class=HTMLResponse)
def form_page(
    token: str,
    settings: SettingsDep,
    state: StateDep,
    now: NowDep,
    rating: Annotated[str, Query()] = "",  # anything but 1-5 is ignored, never an error page
    accept_language: AcceptLanguage = "",
) -> Response:
    """The review form of one invitation, filled in with an earlier submission; `?rating=N` chooses the shop's stars."""
    opened = _open(settings, state, token, now, accept_language)
    if isinstance(opened, Response):
        return opened
    earlier = form_submit.earlier_reviews(opened.invitation, opened.offered)
    values = _earlier_values(opened, earlier)
    if rating in ("1", "2", "3", "4", "5"):  # the stars clicked in the invitation e-mail
        values[None].rating = rating
    if opened.invitation.opened_at is None:
        invitation_store.mark_opened(opened.invitation.id, now)
    return _page(_view(opened, values, earlier))


@router.post("/r/{token}", response_class=HTMLResponse)
async def submit_form(request: Request, token: str, settings: SettingsDep, state: StateDep, now: NowDep) -> Response:
    """Store a submission of the form (an edit of the earlier one), or show the form again with its errors."""
    accept = request.headers.get("accept-language", "")
    opened = await run_in_threadpool(_open, settings, state, token, now, accept)
    if isinstance(opened, Response):
        return opened
    limits: Limits = request.app.state.limits
    wait = limits.form_posts.take(opened.invitation.id)
    if wait > 0:
        retry = max(1, math.ceil(wait))
        answer = form_pages.too_many_page(opened.locale, retry)
        answer.headers["Retry-After"] = str(retry)
        return answer
    products = len(opened.offered)
    try:
        form = await request.form(
            max_files=(form_input.MAX_PHOTOS + 1) * products + 3,
            max_fields=3 * (products + 1) + 10,
            max_part_size=MAX_PART,
        )
    except HTTPException:  # more parts than this form has, or a text field far over its limit
        message = i18n.gettext(
            opened.locale, "The form could not be read: choose at most 3 photos per product and send it again."
        )
        return await run_in_threadpool(_refused_unread, opened, message)
    except ClientDisconnect:  # the client left, or the body limit answered 413 already
        return Response(status_code=400)
    gate = limits.photo_decodes
    entered = False
    try:
        fields = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        files = [(key, value) for key, value in form.multi_items() if isinstance(value, UploadFile)]
        # a file part with a name or bytes is a photo to decode (an empty file input sends neither): its bytes are
        # read into memory only inside the gate, which bounds the photos being held and decoded at once
        if any(value.filename or value.size for _, value in files):
            entered = await gate.wait(limits.photo_wait)
            if not entered:
                return await run_in_threadpool(_busy, opened, fields, [key for key, _ in files], limits.photo_wait)
        uploads = [Upload(key, value.filename or "", await value.read()) for key, value in files]
        return await run_in_threadpool(_submit, state, opened, fields, uploads, now)
    finally:
        await form.close()
        if entered:
            gate.leave()


def _refused_unread(opened: Opened, message: str) -> Response:
    earlier = form_submit.earlier_reviews(opened.invitation, opened.offered)
    return _page(_view(opened, _earlier_values(opened, earlier), earlier, errors={GENERAL: message}), 422)


def _busy(opened: Opened, fields: list[tuple[str, str]], photo_fields: list[str], wait: float) -> Response:
    """503: the form again with what was typed, asking for the photos once more (no place to decode them came free)."""
    checked = form_input.check(opened.locale, fields, [], opened.offered)
    if checked.honeypot:
        return _page(form_pages.not_sent(opened.locale, opened.action), 400)
    earlier = form_submit.earlier_reviews(opened.invitation, opened.offered)
    checked.errors[GENERAL] = i18n.gettext(
        opened.locale,
        "Many reviews with photos are being sent at this moment. Your text is still here; choose your photos again "
        "and send the form in a minute.",
    )
    reupload = {sku for key in photo_fields for kind, _, sku in [key.partition(".")] if kind == "photo" and sku}
    html = _view(opened, checked.values, earlier, errors=checked.errors, reupload=reupload)
    return _page(html, 503, **{"Retry-After": str(max(1, math.ceil(wait)))})


def _submit(
    state: ServiceState, opened: Opened, fields: list[tuple[str, str]], uploads: list[Upload], now: datetime
) -> Response:
    checked: Checked = form_input.check(opened.locale, fields, uploads, opened.offered)
    if checked.honeypot:
        return _page(form_pages.not_sent(opened.locale, opened.action), 400)
    if checked.ok and not invitation_store.begin_submission(opened.invitation.id, now):
        html = form_pages.message_page(
            opened.locale,
            i18n.gettext(opened.locale, "Thank you for your review!"),
            i18n.gettext(
                opened.locale, "Your review is being sent already. Wait a moment, then open the thank-you page."
            ),
            (f"{opened.action}/thanks", i18n.gettext(opened.locale, "Open the thank-you page")),
        )
        return _page(html, 409, **{"Retry-After": "2"})
    earlier = form_submit.earlier_reviews(opened.invitation, opened.offered)
    if checked.ok:
        try:
            form_submit.store(state, opened.bu, opened.invitation, checked, earlier, opened.products, now=now)
        except form_submit.SubmissionRefused:
            message = i18n.gettext(opened.locale, "Your review could not be stored just now. Please send it again.")
            checked.errors[GENERAL] = message
        else:
            return RedirectResponse(f"/r/{opened.token}/thanks", status_code=303, headers=PAGE_HEADERS)
        finally:
            invitation_store.end_submission(opened.invitation.id)
    html = _view(opened, checked.values, earlier, errors=checked.errors, reupload=checked.uploaded)
    return _page(html, 422)


@router.get("/r/{token}/thanks", response_class=HTMLResponse)
def thanks_page(
    token: str, settings: SettingsDep, state: StateDep, now: NowDep, accept_language: AcceptLanguage = ""
) -> Response:
    """The page after a submission: thanks, a link to the shop's public reviews, and one back to edit."""
    opened = _open(settings, state, token, now, accept_language)
    if isinstance(opened, Response):
        return opened
    if opened.invitation.submissions == 0:  # nothing sent yet: the form is the page to see
        return RedirectResponse(opened.action, status_code=303, headers=PAGE_HEADERS)
    html = form_pages.thanks(opened.locale, opened.bu.name, opened.bu.reviews_link, opened.action)
    return _page(html)
