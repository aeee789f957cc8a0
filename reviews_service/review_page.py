"""One published review on a page of its own: what Google's product reviews feed calls a `singleton` review_url.

Pure: a unit, a review and its product in, HTML out, in the unit's language. The customer's words are escaped here
and nowhere rewritten; only the display name is shown (never an e-mail address or order reference).
"""

from __future__ import annotations

from reviews_service import domain, i18n
from reviews_service.i18n import gettext
from reviews_service.policy_page import CSP, STYLE, e

__all__ = ["CSP", "render"]
EXTRA_STYLE = (
    ".stars{font-size:22px;letter-spacing:2px;color:#b35900}.stars .off{color:#c4c4c4}"
    "blockquote{margin:1em 0;white-space:pre-line}"
    ".reply{border-left:3px solid #d0d0d0;padding-left:12px;margin-top:1.2em}"
)


def _scaled(rating: int, scale: int) -> int:
    """The review's whole stars on the unit's display scale (5: 1-5; 10: 2-10)."""
    return rating * scale // 5


def render(
    unit: domain.BusinessUnit,
    review: domain.Review,
    product: domain.Product | None,
    locale: str,
    *,
    about_url: str,
) -> str:
    """The review page in `locale`: stars, title, text, who and when, verified or not, the shop's reply, and links
    to all of the shop's reviews and to how they are checked."""
    shop = unit.name or unit.slug
    subject = (product.name or product.sku) if product is not None else shop
    heading = gettext(locale, "A review of {subject}", subject=subject)
    scale = unit.display_scale
    shown = _scaled(review.rating, scale)
    label = gettext(locale, "{n} out of {scale} stars", n=shown, scale=scale)
    author = review.author.strip() or gettext(locale, "Anonymous")
    when = i18n.format_date(review.created_at, locale)
    byline = gettext(locale, "By {author} on {date}", author=author, date=when)
    on, off = "★" * review.rating, "★" * (5 - review.rating)  # drawn only: the label says it in words
    drawn = f'<span class="stars" aria-hidden="true">{on}<span class="off">{off}</span></span>'
    parts = [f"<h1>{e(heading)}</h1>", f"<p>{drawn} <strong>{e(label)}</strong></p>"]
    if review.title.strip():
        parts.append(f"<h2>{e(review.title)}</h2>")
    if review.text.strip():
        parts.append(f'<blockquote lang="{e(review.language or locale)}">{e(review.text)}</blockquote>')
    meta = byline
    if review.verified:
        meta += " · " + gettext(locale, "Verified buyer")
    parts.append(f'<p class="muted">{e(meta)}</p>')
    if review.reply and review.reply.strip():
        answer = gettext(locale, "The answer of {shop}", shop=shop)
        parts.append(f'<div class="reply"><p><strong>{e(answer)}</strong></p><p>{e(review.reply)}</p></div>')
    links = []
    if unit.reviews_link:
        links.append(f'<a href="{e(unit.reviews_link)}">{e(gettext(locale, "Read our reviews"))}</a>')
    links.append(f'<a href="{e(about_url)}">{e(gettext(locale, "How reviews are checked"))}</a>')
    parts.append(f"<p>{' · '.join(links)}</p>")
    return (
        f'<!DOCTYPE html><html lang="{e(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(heading)} · {e(shop)}</title><style>{STYLE}{EXTRA_STYLE}</style></head>"
        f"<body><main>{''.join(parts)}</main></body></html>"
    )
