"""The one-star alert as an e-mail: subject and body in the unit's language, the review in full, escaped.

A plain-text part and an HTML alternative; the customer's words are shown as written and escaped in the HTML,
and header-unsafe characters (line breaks) never reach the subject. The words are in the `alerts.po` catalogs.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape

from reviews_service import domain
from reviews_service.config import Settings
from reviews_service.flag_reasons import reason
from reviews_service.i18n import format_datetime, gettext

SUBJECT_TITLE = 80  # characters of the review's title (or text) in the subject
# Python folds a long non-ASCII subject so that readers show a doubled space where it broke the line; headers
# up to RFC 5322's 998 characters need no folding at all (ours stay well under it).
HEADERS_UNFOLDED = policy.default.clone(max_line_length=998)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def alert_email(
    flag: domain.Flag, review: domain.Review, unit: domain.BusinessUnit, settings: Settings, link: str
) -> EmailMessage:
    """The e-mail for a one-star flag, to ALERT_RECIPIENTS, in the unit's first locale."""
    locale = unit.locales[0] if unit.locales else "en"
    headline = _one_line(review.title or review.text, SUBJECT_TITLE)
    subject = gettext(locale, "1-star review for {shop}: {title}", shop=_one_line(unit.name, 60), title=headline)
    author = review.author or gettext(locale, "A reviewer")
    when = format_datetime(review.created_at, locale, tz=unit.timezone or "UTC", format="medium")
    intro = gettext(locale, "A 1-star review just arrived for {shop}.", shop=unit.name)
    wrote = gettext(locale, "{author} wrote on {date}:", author=author, date=when)
    why = reason(flag, locale)
    product = gettext(locale, "Product: {product}", product=review.product) if review.product else ""
    moderate = gettext(locale, "Read and moderate it:")
    text = "\n\n".join(
        part for part in (intro, why, wrote, review.title, review.text, product, f"{moderate} {link}") if part
    )
    paragraphs = "".join(
        f'<p style="margin:0 0 12px;white-space:pre-wrap">{escape(part)}</p>'
        for part in (review.title, review.text)
        if part
    )
    html = (
        f'<!doctype html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
        '<body style="font-family:system-ui,sans-serif;max-width:640px;margin:0 auto;padding:16px;line-height:1.5">'
        f"<p>{escape(intro)}</p><p><strong>{escape(why)}</strong></p><p>{escape(wrote)}</p>"
        f'<blockquote style="margin:0 0 16px;padding:8px 12px;border-left:4px solid #c0392b">{paragraphs}</blockquote>'
        + (f"<p>{escape(product)}</p>" if product else "")
        + f'<p><a href="{escape(link, quote=True)}">{escape(moderate)}</a></p></body></html>'
    )
    message = EmailMessage(policy=HEADERS_UNFOLDED)
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.alert_addresses)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="reviews.alerts")
    message["X-Reviews-Flag"] = flag.id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
