"""Pure rendering: summaries and reviews in, escaped HTML/SVG fragments out. No I/O.

Every piece of text that came from a review or a shop goes through `esc`; URLs must be http(s)
or site-relative to become links. Stars are one element with role="img" and a localized
aria-label; their fill is a CSS class per half star (rw-s0 .. rw-s10), so no inline style is needed
and the markup works under a strict Content-Security-Policy.
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from reviews_service import domain, photos
from reviews_service.i18n import format_number, gettext, ngettext
from widgets import i18n

STAR = "M12 2l2.9 6.6 7.1.7-5.4 4.7 1.6 7-6.2-3.7-6.2 3.7 1.6-7L2 9.3l7.1-.7z"
FIVE_STARS = "".join(f'<path transform="translate({24 * i} 0)" d="{STAR}"/>' for i in range(5))
STARS_SVG = f'<svg viewBox="0 0 120 24" aria-hidden="true" focusable="false">{FIVE_STARS}</svg>'
_STAR_LAYERS = f'<span class="rw-stars-bg">{STARS_SVG}</span><span class="rw-stars-fill">{STARS_SVG}</span>'
READ_MORE_CHARS = 100  # longer texts may not fit three lines: they get a "read more" (the loader hides it if they fit)
READ_MORE_BESIDE_PHOTOS = 60  # a review with photos shows two lines of text, so that its item keeps its height
PHOTO_BOX = 40  # px: the side of a thumbnail's box in a review (widgets.css .rw-photo says the same)
_SAFE_URL = re.compile(r"^(https?://[^\s\"'<>`]+|/[^/\s\"'<>`][^\s\"'<>`]*|/)$", re.IGNORECASE)


def esc(text: object) -> str:
    """HTML-escape text for element content and quoted attributes."""
    return html.escape(str(text), quote=True)


def safe_url(url: str) -> str | None:
    """The URL if it is http(s) or site-relative; None for javascript:, data: and anything odd."""
    return url if url and _SAFE_URL.match(url) else None


def half_stars(average: float | None) -> float:
    """A 1-5 value in half stars (4.26 -> 4.5, 4.24 -> 4.0); 0 without reviews.

    Callers pass `RatingSummary.stars(scale)`, the stars of the shown score, which are already half
    stars: rounding the 2-decimal average instead showed "2,7" with 3 stars.
    """
    return 0.0 if average is None else math.floor(average * 2 + 0.5) / 2  # half up, not banker's rounding


def score_text(summary: domain.RatingSummary, scale: int, locale: str) -> str | None:
    """'8,8' on a 10 scale for nl, '4.4' on a 5 scale for en; None without reviews."""
    value = summary.display_value(scale)
    return None if value is None else format_number(value, locale)


def rated_label(summary: domain.RatingSummary, scale: int, locale: str) -> str:
    """The accessible name of a star rating: 'Rated 4.6 out of 5 based on 4,512 reviews'."""
    score = score_text(summary, scale, locale)
    if score is None:
        return gettext(locale, "Not rated yet")
    return ngettext(
        locale,
        "Rated {value} out of {scale} based on {n} review",
        "Rated {value} out of {scale} based on {n} reviews",
        summary.count,
        value=score,
        scale=scale,
    )


def count_text(n: int, locale: str) -> str:
    """'4.512 beoordelingen', '1 review'; without reviews it says so in words."""
    if n == 0:
        return gettext(locale, "No reviews yet")
    return ngettext(locale, "{n} review", "{n} reviews", n)


def stars(average: float | None, label: str, size: str = "") -> str:
    """Five stars filled to the nearest half star, as one element a screen reader reads as `label`."""
    steps = int(half_stars(average) * 2)
    extra = f" rw-stars-{size}" if size else ""
    return f'<span class="rw-stars{extra} rw-s{steps}" role="img" aria-label="{esc(label)}">{_STAR_LAYERS}</span>'


# A small "i" in a circle: the info link's icon (its accessible name is the link's aria-label).
INFO_SVG = (
    '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">'
    '<circle cx="8" cy="8" r="7" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    '<path d="M7.25 7h1.5v5h-1.5zM7.25 4h1.5v1.5h-1.5z" fill="currentColor"/></svg>'
)


def about_link(about_url: str, locale: str, text: bool = False) -> str:
    """The link to the unit's review-policy page (EU Omnibus: how its reviews are checked), in a new tab: a 24 px
    icon (badge, stars) or a short text (latest reviews); "" without a usable URL."""
    url = safe_url(about_url)
    if not url:
        return ""
    name = esc(gettext(locale, "How reviews are checked"))
    target = f'href="{esc(url)}" target="_blank" rel="noopener"'
    if text:
        return f'<a class="rw-about rw-about-text" {target}>{name}</a>'
    return f'<a class="rw-about" {target} aria-label="{name}" title="{name}">{INFO_SVG}</a>'


def _root(kind: str, theme: str | None, locale: str, inner: str, tag: str = "div", extra: str = "") -> str:
    theme_attr = f' data-theme="{esc(theme)}"' if theme in ("light", "dark") else ""
    return f'<{tag} class="rw rw-{kind}" lang="{locale}"{theme_attr}{extra}>{inner}</{tag}>'


def badge(
    unit: domain.BusinessUnit,
    summary: domain.RatingSummary,
    locale: str,
    reviews_url: str,
    theme: str | None = None,
    about_url: str = "",
) -> str:
    """The shop badge: label, stars, score on the shop's scale, review count, link to the reviews; the info link to
    how they are checked (`about_url`) in its corner."""
    label_key = i18n.band(summary.average)
    score = score_text(summary, unit.display_scale, locale)
    parts = [
        f'<span class="rw-label">{esc(gettext(locale, label_key)) if label_key else "&nbsp;"}</span>',
        stars(summary.stars(unit.display_scale), rated_label(summary, unit.display_scale, locale)),
        '<span class="rw-score" aria-hidden="true">'
        + (f"<b>{esc(score)}</b> / {unit.display_scale}" if score else "&nbsp;")
        + "</span>",
        f'<span class="rw-count">{esc(count_text(summary.count, locale))}</span>',
    ]
    inner = "".join(parts)
    url = safe_url(reviews_url)
    if url:
        inner = f'<a class="rw-link" href="{esc(url)}" target="_blank" rel="noopener">{inner}</a>'
    else:
        inner = f'<span class="rw-link">{inner}</span>'
    return _root("badge", theme, locale, inner + about_link(about_url, locale))


def product_stars(
    unit: domain.BusinessUnit,
    summary: domain.RatingSummary,
    locale: str,
    theme: str | None = None,
    about_url: str = "",
) -> str:
    """A product's stars with its score on the shop's scale and its count, one line high (listing and product pages).

    Without reviews it says so once: grey stars for the eye only, then the words (a shorter form
    takes over in a narrow box, so that no width cuts them mid-word).
    """
    score = score_text(summary, unit.display_scale, locale)
    if not score:
        empty = f'<span class="rw-stars rw-stars-sm rw-s0" aria-hidden="true">{_STAR_LAYERS}</span>'
        long, short = gettext(locale, "No reviews yet"), gettext(locale, "No reviews")
        words = f'<span class="rw-long">{esc(long)}</span><span class="rw-short">{esc(short)}</span>'
        inner = f'{empty}<span class="rw-count rw-none">{words}</span>{about_link(about_url, locale)}'
        return _root("product-stars", theme, locale, inner)
    inner = stars(summary.stars(unit.display_scale), rated_label(summary, unit.display_scale, locale), "sm")
    inner += (
        f'<span class="rw-score" aria-hidden="true">{esc(score)}'
        f'<span class="rw-scale"> / {unit.display_scale}</span></span>'
        f'<span class="rw-count" aria-hidden="true">({esc(format_number(summary.count, locale, decimals=0))})</span>'
        + about_link(about_url, locale)
    )
    return _root("product-stars", theme, locale, inner)


def date_text(moment: datetime, locale: str, timezone: str) -> str:
    """'20 nov 2026' / 'Nov 20, 2026' / '20. Nov. 2026' in the shop's time zone: CLDR's day, short month, year."""
    local = moment.astimezone(ZoneInfo(timezone))
    return format_skeleton("yMMMd", local.date(), locale=locale)


def local_date(moment: datetime, timezone: str) -> str:
    """The ISO date of a moment in the shop's time zone (what the page shows, and its JSON-LD says)."""
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def review_item(unit: domain.BusinessUnit, review: domain.Review, locale: str, base_url: str = "") -> str:
    """One review in the latest-reviews list; every field escaped, the rating on the shop's scale; its photos'
    thumbnails on `base_url` (the service's public URL), each a link to the full photo."""
    scale = unit.display_scale
    value = review.rating * scale // 5
    if scale == 5:
        label = gettext(locale, "{value} out of 5 stars", value=value)
    else:
        label = gettext(locale, "{value} out of {scale}", value=value, scale=scale)
    author = review.author or gettext(locale, "Customer")
    head = stars(review.rating, label, "sm")
    if scale != 5:  # five stars say "4 of 5" by themselves; "8 / 10" needs its number
        head += f'<span class="rw-review-score" aria-hidden="true">{value} / {scale}</span>'
    verified = gettext(locale, "Verified buyer")
    head += (
        f'<span class="rw-author">{esc(author)}</span>'
        + (f'<span class="rw-verified">✓ {esc(verified)}</span>' if review.verified else "")
        + f'<time class="rw-date" datetime="{local_date(review.created_at, unit.timezone)}">'
        + f"{esc(date_text(review.created_at, locale, unit.timezone))}</time>"
    )
    body = f'<div class="rw-review-head">{head}</div>'
    if review.title:
        body += f'<p class="rw-review-title">{esc(review.title)}</p>'
    toggle = ""
    if review.text:
        lang = f' lang="{esc(review.language)}"' if review.language else ""
        body += f'<p class="rw-review-text"{lang}>{esc(review.text)}</p>'
        chars, breaks = (READ_MORE_BESIDE_PHOTOS, 1) if review.photos else (READ_MORE_CHARS, 2)
        if len(review.text) > chars or review.text.count("\n") >= breaks:
            toggle = _read_more(locale)
    if review.photos:  # one row of fixed boxes beside "read more": the item's height does not change
        body += f'<div class="rw-review-foot">{toggle}{_photos(review, author, locale, base_url)}</div>'
    else:
        body += toggle
    if review.reply:
        reply_from = gettext(locale, "Reply from {shop}", shop=unit.name)
        body += f'<p class="rw-reply"><span class="rw-reply-from">{esc(reply_from)}</span> {esc(review.reply)}</p>'
    extra = " rw-has-photos" if review.photos else ""
    return f'<li class="rw-review{extra}">{body}</li>'


def _photos(review: domain.Review, author: str, locale: str, base_url: str) -> str:
    """The review's thumbnails in boxes of a fixed size (zero layout shift), loaded lazily from the service."""
    links = []
    for n, photo_id in enumerate(review.photos, start=1):
        alt = gettext(locale, "Photo {n} by {author}", n=n, author=author)
        links.append(
            f'<a class="rw-photo" href="{esc(photos.photo_url(base_url, photo_id))}" target="_blank" rel="noopener">'
            f'<img src="{esc(photos.thumbnail_url(base_url, photo_id))}" width="{PHOTO_BOX}" height="{PHOTO_BOX}" '
            f'alt="{esc(alt)}" loading="lazy" decoding="async"></a>'
        )
    return f'<span class="rw-photos">{"".join(links)}</span>'


def _read_more(locale: str) -> str:
    """A toggle that unclamps the text in CSS alone (works without JS; the full text is always in the page)."""
    more, less = gettext(locale, "Read more"), gettext(locale, "Show less")
    return (
        '<label class="rw-toggle"><input type="checkbox" class="rw-toggle-box">'
        f'<span class="rw-toggle-more">{esc(more)}</span><span class="rw-toggle-less">{esc(less)}</span></label>'
    )


def review_list(
    unit: domain.BusinessUnit,
    reviews: list[domain.Review],
    locale: str,
    limit: int,
    reviews_url: str,
    theme: str | None = None,
    empty_text: bool = True,
    base_url: str = "",
    about_url: str = "",
) -> str:
    """The latest published reviews, newest first, exactly as stored (no cherry-picking, no rating filter unless
    the page asks for one).

    `empty_text=False` when the product's own stars on the page already say there are none; photo URLs are on
    `base_url`, the service's public URL (the fragment lands in a shop's page, on another origin). Below the list,
    in the row reserved for it: "Read our reviews" and the info link to how reviews are checked (`about_url`).
    """
    items = "".join(review_item(unit, r, locale, base_url) for r in reviews[:limit])
    if not items:
        words = esc(gettext(locale, "No reviews yet")) if empty_text else ""
        items = f'<li class="rw-review rw-empty">{words}</li>'
    inner = f'<ol class="rw-list">{items}</ol>'
    url = safe_url(reviews_url)
    foot = ""
    if url:
        link_text = esc(gettext(locale, "Read our reviews"))
        foot = f'<a class="rw-more" href="{esc(url)}" target="_blank" rel="noopener">{link_text}</a>'
    foot += about_link(about_url, locale, text=True)
    if foot:
        inner += f'<div class="rw-foot">{foot}</div>'
    label = esc(gettext(locale, "Latest reviews"))
    return _root("reviews", theme, locale, inner, tag="section", extra=f' aria-label="{label}" data-limit="{limit}"')


def badge_svg(unit: domain.BusinessUnit, summary: domain.RatingSummary, locale: str) -> str:
    """A standalone SVG badge (e-mail signatures, social media, print): no scripts, no external refs."""
    label_key = i18n.band(summary.average)
    title = f"{unit.name}: {rated_label(summary, unit.display_scale, locale)}"
    score = score_text(summary, unit.display_scale, locale)
    fill_width = 120 * half_stars(summary.stars(unit.display_scale)) / 5
    headline = gettext(locale, label_key) if label_key else gettext(locale, "Not rated yet")
    score_line = f"{score} / {unit.display_scale} · {count_text(summary.count, locale)}" if score else ""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="72" viewBox="0 0 240 72" '
        f'role="img" aria-labelledby="rw-title"><title id="rw-title">{esc(title)}</title>'
        '<rect width="240" height="72" rx="8" fill="#ffffff" stroke="#d0d0d0"/>'
        f'<text x="12" y="22" font-family="Helvetica,Arial,sans-serif" font-size="15" font-weight="700" '
        f'fill="#1a1a1a">{esc(headline)}</text>'
        f'<clipPath id="rw-fill"><rect x="0" y="0" width="{fill_width:g}" height="24"/></clipPath>'
        f'<g transform="translate(112 6)"><g fill="#d6d6d6">{FIVE_STARS}</g>'
        f'<g fill="#c25e00" clip-path="url(#rw-fill)">{FIVE_STARS}</g></g>'
        f'<text x="12" y="50" font-family="Helvetica,Arial,sans-serif" font-size="13" fill="#1a1a1a">'
        f"{esc(score_line)}</text>"
        f'<text x="12" y="66" font-family="Helvetica,Arial,sans-serif" font-size="11" fill="#4d4d4d">'
        f"{esc(unit.name)}</text></svg>"
    )


def frame_document(fragment: str, locale: str, title: str) -> str:
    """A whole HTML page around a fragment, for <iframe> embedding (styles from our own origin)."""
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}</title>'
        '<link rel="stylesheet" href="/widgets/widgets.css"></head>'
        f'<body class="rw-frame">{fragment}</body></html>'
    )
