"""schema.org JSON-LD builders (pure): catalogue + summary + reviews in, Google-ready dicts out.

Follows Google Search Central's review-snippet documentation
(https://developers.google.com/search/docs/appearance/structured-data/review-snippet) and its
product documentation (https://developers.google.com/search/docs/appearance/structured-data/product):

- `aggregateRating` needs `ratingValue` and `reviewCount` (or `ratingCount`); `bestRating` and
  `worstRating` default to 5 and 1, so we always state them, on the shop's display scale, with the
  same value the widgets show (8.8 of 10 for a 10-point shop).
- An item with no published reviews gets no `aggregateRating` at all, never `reviewCount: 0`.
- A Product needs `review`, `aggregateRating` or `offers` for a product snippet
  (https://developers.google.com/search/docs/appearance/structured-data/product-snippet): a
  catalogue price becomes an `Offer` (`price` as text with a '.', `priceCurrency`, `availability`,
  `url`), so a product without reviews still qualifies.
- Each `review` has an `author` (a Person with the public display name, under 100 characters),
  a `reviewRating` within best/worst, `datePublished` (ISO 8601), `reviewBody` and `inLanguage`.
- Markup must match what the page shows: the `review` items are the same latest published
  reviews the widgets list, with the same display names.
- Self-serving reviews (Google, "Making Review Rich Results more helpful", 16 Sept 2019,
  https://developers.google.com/search/blog/2019/09/making-review-rich-results-more-helpful):
  reviews about an Organization or LocalBusiness shown on that business's own site earn no
  stars, whoever collected them. `organization()` still builds valid markup; the endpoint says
  it is not eligible (see SELF_SERVING_NOTE).
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from reviews_service import domain
from reviews_service.i18n import gettext
from widgets import i18n

CONTEXT = "https://schema.org"
MAX_AUTHOR = 99
SELF_SERVING_NOTE = (
    "not-eligible; Google shows no review stars for a business's own reviews on its own site "
    "(self-serving reviews policy, September 2019)"
)


def _compact(value: float) -> float | int:
    """9.0 -> 9, 8.8 -> 8.8: the number as a person would write it."""
    return int(value) if value == int(value) else value


def _scaled(stars: float, scale: int) -> float | int:
    return _compact(round(stars * scale / 5, 1))


def rating_bounds(scale: int) -> tuple[int, int]:
    """(worstRating, bestRating) on a display scale: 1 star is 1/5 or 2/10."""
    return scale // 5, scale


def aggregate_rating(summary: domain.RatingSummary, scale: int) -> dict[str, Any] | None:
    """AggregateRating on the shop's scale, or None without published reviews."""
    value = summary.display_value(scale)
    if value is None or summary.count == 0:
        return None
    worst, best = rating_bounds(scale)
    return {
        "@type": "AggregateRating",
        "ratingValue": _compact(value),
        "reviewCount": summary.count,
        "bestRating": best,
        "worstRating": worst,
    }


def author_name(review: domain.Review, locale: str) -> str:
    """The public display name (never an e-mail), cut under Google's 100-character limit."""
    name = review.author.strip() or gettext(locale, "Customer")
    return name[:MAX_AUTHOR].strip()


def review_item(review: domain.Review, scale: int, locale: str, timezone: str = "UTC") -> dict[str, Any]:
    """One schema.org Review as nested in a Product; its date is the day the widgets show (shop's time zone)."""
    worst, best = rating_bounds(scale)
    item: dict[str, Any] = {
        "@type": "Review",
        "author": {"@type": "Person", "name": author_name(review, locale)},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": _scaled(review.rating, scale),
            "bestRating": best,
            "worstRating": worst,
        },
        "datePublished": review.created_at.astimezone(ZoneInfo(timezone)).date().isoformat(),
    }
    if review.title:
        item["name"] = review.title
    if review.text:
        item["reviewBody"] = review.text
    if review.language:
        item["inLanguage"] = review.language
    return item


def product(
    unit: domain.BusinessUnit,
    item: domain.Product,
    summary: domain.RatingSummary,
    reviews: list[domain.Review],
    locale: str | None = None,
) -> dict[str, Any]:
    """schema.org Product with its aggregate rating and latest reviews (none of either if it has none)."""
    lang = i18n.pick_locale(locale, unit.locales)
    data: dict[str, Any] = {"@context": CONTEXT, "@type": "Product", "name": item.name, "sku": item.sku}
    if item.url:
        data["url"] = item.url
    if item.image:
        data["image"] = item.image
    if item.gtin:
        data["gtin"] = item.gtin
    if item.brand:
        data["brand"] = {"@type": "Brand", "name": item.brand}
    if item.price:
        data["offers"] = offer(item)
    rating = aggregate_rating(summary, unit.display_scale)
    if rating is not None:
        data["aggregateRating"] = rating
        published = [r for r in reviews if r.status == "published" and r.product == item.sku]
        if published:
            data["review"] = [review_item(r, unit.display_scale, lang, unit.timezone) for r in published]
    return data


def offer(item: domain.Product) -> dict[str, Any]:
    """schema.org Offer from the catalogue's price: what makes a product without reviews eligible for a snippet."""
    data: dict[str, Any] = {"@type": "Offer", "price": item.price, "priceCurrency": item.currency}
    if item.availability:
        data["availability"] = f"https://schema.org/{item.availability}"
    if item.url:
        data["url"] = item.url
    return data


def organization(unit: domain.BusinessUnit, summary: domain.RatingSummary) -> dict[str, Any]:
    """schema.org Organization for the shop (valid, but see SELF_SERVING_NOTE: no stars in Google)."""
    data: dict[str, Any] = {"@context": CONTEXT, "@type": "Organization", "name": unit.name}
    if unit.domain:
        data["url"] = f"https://{unit.domain}/"
    rating = aggregate_rating(summary, unit.display_scale)
    if rating is not None:
        data["aggregateRating"] = rating
    return data


def dumps(data: dict[str, Any]) -> str:
    """Compact JSON that is also safe inside an HTML <script> element (no `</script>`, no `<!--`)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def script_element(data: dict[str, Any]) -> str:
    """The `<script type="application/ld+json">` element for page templates."""
    return f'<script type="application/ld+json">{dumps(data)}</script>'
