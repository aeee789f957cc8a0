"""Reviews already on web pages: schema.org `Review` and `AggregateRating` in JSON-LD, microdata and RDFa.

For a shop moving off its old platform: its product and review pages carry the reviews as markup. The
source config is `{"urls": ["https://old-shop.example/p/oak-chair", {"url": "...", "product": "oak-chair"}],
"files": ["old-shop/oak-chair.html"]}`; `files` are saved pages under REVIEWS_DATA_DIR/pages/.

Fetching is the SEO validator's (reviews_service.api.seo.fetch_page): public addresses only (unless
REVIEWS_VALIDATE_PRIVATE_URLS), the validator's byte cap, one deadline for the whole fetch
(REVIEWS_VALIDATE_FETCH_SECONDS). Reading is the validator's too (seo.validate.validate_html): extruct within
seo.budget's caps, so a hostile page (huge, deep, itemref bombs) is refused, not parsed. `parse` is pure.

A review's `@id` is its external id when the page gives one; otherwise a hash of the page URL, author, date
and text, stable across runs (an edit to the text on the page makes it a new review). Its rating follows
`reviewRating` on the page's own scale: 1-5 as it is, 1-N kept as the source score (normalize maps it to
stars), any other range mapped to stars by the same five-band rule. An AggregateRating is not a review: it is
read and kept in the source's checkpoint per page (shown at GET .../sources), to compare with our own figures.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

from collectors.base import Run
from collectors.text import html_to_text
from reviews_service import domain, repository
from reviews_service.api.seo import fetch_page as fetch_with_validator_limits
from reviews_service.config import Settings
from reviews_service.errors import InvalidInput, SourceConfigError, SourceError
from reviews_service.normalize import stars_on_scale
from seo import validate

SOURCE = "structured-data"
MAX_PAGES = 100  # pages per source: each costs up to a fetch deadline
# HTML pasted into a JSON-LD text: a closing tag or a line break. "a<b and c>d" has neither and stays as written.
_TAG = re.compile(r"</(p|div|span|b|i|em|strong|u|li|ul|ol|a|h[1-6]|blockquote)\s*>|<br\s*/?>", re.IGNORECASE)


def _one(value: Any) -> Any:
    while isinstance(value, list):
        value = value[0] if value else None
    return value


def _text(value: Any) -> str:
    value = _one(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
        value = _one(value)
    return "" if value is None else str(value).strip()


def _number(value: Any) -> float | None:
    text = _text(value).replace(",", ".")
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _rating(rating: Any) -> dict[str, Any]:
    """The record's rating fields from a schema.org Rating (defaults: worst 1, best 5)."""
    rating = _one(rating) if isinstance(rating, list) else rating
    value = _number(rating.get("ratingValue")) if isinstance(rating, dict) else _number(rating)
    if value is None:
        return {"rating": None}  # the ingest rejects it, saying a rating is needed
    best = _number(rating.get("bestRating")) if isinstance(rating, dict) else None
    worst = _number(rating.get("worstRating")) if isinstance(rating, dict) else None
    best, worst = best if best is not None else 5.0, worst if worst is not None else 1.0
    if best == 5 and worst == 1 and value.is_integer():
        return {"rating": int(value)}
    if worst == 1 and best.is_integer() and 2 <= best <= 100 and 1 <= value <= best:
        return {"source_rating": value, "source_scale": int(best)}
    if best > worst and worst <= value <= best:
        return {"rating": stars_on_scale(value, int(best), int(worst))}
    return {"rating": _text(rating.get("ratingValue") if isinstance(rating, dict) else rating)}


def _reviews_in(item: Any, product: str | None, skus: frozenset[str]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every Review below `item` with the sku it is about (the enclosing Product's, when it is in the catalogue)."""
    stack: list[tuple[Any, str | None, int]] = [(item, product, 0)]
    while stack:
        node, about, depth = stack.pop()
        if isinstance(node, list):
            stack.extend((child, about, depth) for child in reversed(node))
            continue
        if not isinstance(node, dict) or depth > 12:  # the validator's budget caps depth well before this
            continue
        kinds = validate.types_of(node)
        if "Product" in kinds and about is None:
            sku = _text(node.get("sku"))
            about = sku if sku in skus else None
        if "Review" in kinds:
            yield node, about
        for key, child in node.items():
            if key not in ("@context", "author", "reviewRating") and isinstance(child, dict | list):
                stack.append((child, about, depth + 1))


def _record(review: dict[str, Any], url: str, product: str | None) -> dict[str, Any]:
    author, date = _text(review.get("author")), _text(review.get("datePublished") or review.get("dateCreated"))
    body = _text(review.get("reviewBody") or review.get("description"))
    text = html_to_text(body) if _TAG.search(body) else body
    ident = _text(review.get("@id"))
    if not ident:
        material = "\n".join((urldefrag(url)[0], author, date, text))
        ident = "h-" + hashlib.sha256(material.encode()).hexdigest()[:32]
    return {
        "source": SOURCE,
        "external_id": ident[-200:],
        **_rating(review.get("reviewRating")),
        "title": _text(review.get("name") or review.get("headline")),
        "text": text,
        "author": author,
        "created_at": date or None,
        "language": _text(review.get("inLanguage")) or None,
        "product": product,
    }


def _aggregate(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    for item in items:
        found = item.get("aggregateRating") if "AggregateRating" not in validate.types_of(item) else item
        if isinstance(found, dict | list):
            found = _one(found)
            return {key: _text(found.get(key)) for key in ("ratingValue", "reviewCount", "ratingCount", "bestRating")}
    return None


def parse(html: str, url: str, product: str | None = None, skus: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`{"reviews": [records], "aggregate": {...} | None}` of one page; OverBudget for a hostile one."""
    items = [{k: v for k, v in item.items() if k != "syntax"} for item in validate.validate_html(html)["items"]]
    records = [_record(review, url, about) for item in items for review, about in _reviews_in(item, product, skus)]
    return {"reviews": records, "aggregate": _aggregate(items)}


class StructuredDataCollector:
    """The `structured-data` source."""

    name = SOURCE

    def check_config(self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings) -> None:
        """At least one http(s) URL or saved file, at most MAX_PAGES, files inside REVIEWS_DATA_DIR/pages/."""
        pages = list(_pages(config, settings))
        if not pages:
            raise SourceConfigError(
                f'{unit.slug}: the structured-data source needs `urls` or `files`, e.g. {{"urls": '
                '["https://old-shop.example/p/oak-chair"]}'
            )
        if len(pages) > MAX_PAGES:
            raise SourceConfigError(f"{unit.slug}: the structured-data source reads up to {MAX_PAGES} pages")

    def collect(self, run: Run) -> None:
        """Fetch (or read) each page, parse it, ingest its reviews; each page's outcome goes in the checkpoint."""
        skus = frozenset(repository.catalogue(run.unit.slug))
        # a list, not a dict by URL: MongoDB refuses keys with a '.'
        seen = {str(p.get("page")): p for p in run.checkpoint().get("pages") or [] if isinstance(p, dict)}
        for where, product in _pages(run.config, run.settings):
            run.report.calls += 1
            html = fetch(where, run.settings)
            try:
                found = parse(html, where if "://" in where else f"file:{Path(where).name}", product, skus)
            except InvalidInput as exc:  # over the validator's caps: this page is refused, loudly
                raise SourceError(f"{where}: {exc.detail}") from exc
            run.report.pages += 1
            run.report.fetched += len(found["reviews"])
            if found["reviews"]:
                run.ingest(found["reviews"])
            seen[where] = {"page": where, "reviews": len(found["reviews"]), "aggregate": found["aggregate"]}
            run.save_checkpoint({"pages": list(seen.values())})
            run.progress(run.report.fetched, None)


def _page_configs(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    urls = config.get("urls") or []
    return [u if isinstance(u, dict) else {"url": u} for u in (urls if isinstance(urls, list) else [urls])]


def _pages(config: Mapping[str, Any], settings: Settings) -> Iterator[tuple[str, str | None]]:
    """(URL or file path, the sku its reviews are about) for every configured page; SourceConfigError if unusable."""
    for page in _page_configs(config):
        url = str(page.get("url") or "")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise SourceConfigError(f"structured-data: {url[:80]!r} is not an http(s) URL")
        yield url, (str(page["product"]) if page.get("product") else None)
    files = config.get("files") or []
    root = (Path(settings.data_dir) / "pages").resolve()
    for name in files if isinstance(files, list) else [files]:
        path = (root / str(name)).resolve()
        if not path.is_relative_to(root):
            raise SourceConfigError(f"structured-data: saved pages must lie in {root}; {str(name)[:80]!r} does not")
        yield str(path), None


def fetch(where: str, settings: Settings) -> str:
    """One page's HTML: over HTTP within the validator's limits, or a saved file within its size cap."""
    if "://" not in where:
        try:
            with open(where, "rb") as saved:
                data = saved.read(validate.MAX_HTML + 1)
        except OSError as exc:
            raise SourceError(f"cannot read the saved page {where}: {exc.strerror}") from exc
        if len(data) > validate.MAX_HTML:
            raise SourceError(f"the saved page {where} is over {validate.MAX_HTML:,} bytes")
        return data.decode("utf-8", "replace")
    try:
        return fetch_with_validator_limits(where, settings.validate_private_urls, settings.validate_fetch_seconds)
    except InvalidInput as exc:
        raise SourceError(exc.detail) from exc
