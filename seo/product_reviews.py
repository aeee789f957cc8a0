"""Google's product reviews feed (schema 2.4) as text chunks (pure): a unit, its reviews and products in, XML out.

Follows Google's XML schema reference (https://developers.google.com/product-review-feeds/schema, the schema at
SCHEMA_URL) and its sample feed (https://developers.google.com/product-review-feeds/sample):

- Google keeps only what the latest full feed lists: a review missing from it is deleted. So a feed always lists
  every published product review with text, never a page of them (`feed()` takes every batch there is).
- Elements come in the order the schema's sequences fix: review_id, reviewer, review_timestamp, title, content,
  review_url, ratings, products, is_spam, collection_method; a product's product_ids (gtins, mpns, skus, brands),
  product_name, product_url.
- `<reviews>` must hold at least one `<review>` when present: a unit with none gets a feed without it.
- Text is the customer's as stored; only here, on the way out, are characters XML 1.0 cannot carry (control
  characters, lone surrogates, U+FFFE/U+FFFF) dropped, and &, <, > escaped. A review left with no content is
  skipped (the schema's content is a non-empty string).
- Reviewers appear by their public display name only, is_anonymous="true" where it says "anonymous" (in the
  shops' languages) or there is none (then the name is "Anonymous"). E-mail addresses and order references are
  never read (repository.product_review_batches leaves them in the store).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC
from urllib.parse import quote, urljoin
from xml.sax.saxutils import escape

from reviews_service import domain

VERSION = "2.4"
# This service's way of writing the feed: bump it whenever the same reviews would come out differently (an element
# added, a URL changed), so the ETag moves and fetchers holding the old text get the new one instead of a 304.
FORMAT = 2
CHUNK_CHARS = 1_000_000  # a chunk is sent once it passes this many characters (or its batch ends)
SCHEMA_URL = "http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd"
ANONYMOUS = "Anonymous"
# Names that say there is none (as typed into forms and platforms in the shops' four languages).
ANONYMOUS_NAMES = frozenset({"anonymous", "anoniem", "anonym", "anonyme"})
# Google's two collection methods; a review "campaign_driven" (asked for outside an order) is neither, so it says none.
COLLECTION_METHODS = {"post_fulfillment": "post_fulfillment", "unsolicited": "unsolicited"}
REVIEW_URL_TYPE = "singleton"  # every review has a page of its own (reviews_service/review_page.py)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_GTIN = re.compile(r"[0-9]{8,14}")


def xml_text(value: str) -> str:
    """`value` as XML 1.0 character data: characters XML cannot carry dropped, &, < and > escaped."""
    return escape(_NOT_XML.sub("", value))


def _element(name: str, value: str) -> str:
    """<name>value</name>, or "" when nothing printable is left of the value (the schema refuses empty strings)."""
    text = xml_text(value).strip()
    return f"<{name}>{text}</{name}>" if text else ""


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def opening(unit: domain.BusinessUnit) -> str:
    """The XML declaration, `<feed>`, its version and the publisher (the unit's name)."""
    name = _element("name", unit.name) or _element("name", unit.slug)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:noNamespaceSchemaLocation="{SCHEMA_URL}">\n'
        f"<version>{VERSION}</version>\n<publisher>{name}</publisher>\n"
    )


def _absolute(url: str, service_url: str) -> str:
    """`url` as an absolute URL (the schema wants http(s) ones): a path such as /demo/shop/reviews is this service's."""
    return url if url.startswith(("http://", "https://")) else urljoin(service_url.rstrip("/") + "/", url)


def review_url(unit: domain.BusinessUnit, review: domain.Review, service_url: str) -> str:
    """The review's own page on this service (`/reviews/{bu}/review/{id}`): a page with only that review, what Google
    calls a `singleton` review_url."""
    return f"{service_url.rstrip('/')}/reviews/{quote(unit.slug)}/review/{quote(review.id, safe=':-._~')}"


def product_url(unit: domain.BusinessUnit, sku: str, product: domain.Product | None, service_url: str) -> str:
    """The product's page in the shop; without one, its schema.org Product on this service (name, ids, rating)."""
    if product is not None and product.url:
        return _absolute(product.url, service_url)
    return f"{service_url.rstrip('/')}/seo/{quote(unit.slug)}/products/{quote(sku, safe='')}.jsonld"


def _reviewer(review: domain.Review) -> str:
    name = xml_text(review.author).strip()
    if not name or name.casefold() in ANONYMOUS_NAMES:
        return f'<reviewer><name is_anonymous="true">{xml_text(name or ANONYMOUS)}</name></reviewer>'
    return f"<reviewer><name>{name}</name></reviewer>"


def _product(unit: domain.BusinessUnit, sku: str, product: domain.Product | None, service_url: str) -> str:
    ids = ""
    if product is not None and _GTIN.fullmatch(product.gtin):
        ids += f"<gtins><gtin>{product.gtin}</gtin></gtins>"
    if product is not None and (mpn := _element("mpn", product.mpn)):
        ids += f"<mpns>{mpn}</mpns>"
    if sku_element := _element("sku", sku):
        ids += f"<skus>{sku_element}</skus>"
    if product is not None and (brand := _element("brand", product.brand)):
        ids += f"<brands>{brand}</brands>"
    ids = f"<product_ids>{ids}</product_ids>" if ids else ""
    name = _element("product_name", product.name) if product is not None else ""
    url = xml_text(product_url(unit, sku, product, service_url))
    return f"<product>{ids}{name}<product_url>{url}</product_url></product>"


def review_element(
    unit: domain.BusinessUnit, review: domain.Review, product: domain.Product | None, service_url: str
) -> str:
    """One `<review>` in the schema's order, or "" for a review with no product or no printable content."""
    content = _element("content", review.text)
    review_id = _element("review_id", review.id)
    if not content or not review_id or not review.product:
        return ""
    worst, best = unit.display_scale // 5, unit.display_scale  # 1 star is 1/5 or 2/10, as the widgets show it
    rating = _number(review.rating * unit.display_scale / 5)
    parts = [
        "<review>",
        review_id,
        _reviewer(review),
        f"<review_timestamp>{review.created_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</review_timestamp>",
        _element("title", review.title),
        content,
        f'<review_url type="{REVIEW_URL_TYPE}">{xml_text(review_url(unit, review, service_url))}</review_url>',
        f'<ratings><overall min="{worst}" max="{best}">{rating}</overall></ratings>',
        f"<products>{_product(unit, review.product, product, service_url)}</products>",
    ]
    if review.moderated:  # a moderator published it: known not to be spam (otherwise nobody has said)
        parts.append("<is_spam>false</is_spam>")
    if method := COLLECTION_METHODS.get(review.collection_method or ""):
        parts.append(f"<collection_method>{method}</collection_method>")
    parts.append("</review>\n")
    return "".join(parts)


def feed(
    unit: domain.BusinessUnit,
    batches: Iterable[tuple[list[domain.Review], Mapping[str, domain.Product]]],
    service_url: str,
) -> Iterator[str]:
    """The whole feed in chunks of at most about CHUNK_CHARS (a batch of reviews, with its products by sku, or part
    of one): flat memory per batch, and a batch of long reviews is never one string of many megabytes."""
    yield opening(unit)
    listed = False
    parts: list[str] = []
    size = 0
    for reviews, products in batches:
        for review in reviews:
            if element := review_element(unit, review, products.get(review.product or ""), service_url):
                if not listed:
                    parts.append("<reviews>\n")
                    listed = True
                parts.append(element)
                size += len(element)
            if size >= CHUNK_CHARS:
                yield "".join(parts)
                parts, size = [], 0
        if parts:
            yield "".join(parts)
            parts, size = [], 0
    yield "</reviews>\n</feed>\n" if listed else "</feed>\n"
