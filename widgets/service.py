"""Widget answers as prebuilt bytes: rendered once, cached in-process, invalidated by the change feed.

The hot path (`lookup`) is a dict read keyed by the raw request path and query string; a miss
renders (`render`), which reads summaries and reviews through the repository. A change to a
business unit's reviews or catalogue drops every cached answer of that business unit.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from importlib import resources
from urllib.parse import parse_qs, urlencode

from reviews_service import domain, repository
from reviews_service.cache import changes
from reviews_service.errors import InvalidInput
from widgets import i18n
from widgets import render as markup

WIDGET_CACHE = "public, max-age=60, stale-while-revalidate=600"
STATIC_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
HTML = "text/html; charset=utf-8"
MAX_SKUS = 100
MAX_LIMIT = 20
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
KNOWN_PARAMS = {"locale", "theme", "frame", "limit", "reviews", "product", "rating", "language", "skus", "badge"}
_PATHS = {
    "badge.html": "badge",
    "badge.svg": "svg",
    "reviews.html": "reviews",
    "data.json": "data",
}


@dataclass(frozen=True)
class Rendered:
    """One cacheable answer: its bytes (plain and gzipped), validator and headers."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    cache_control: str = WIDGET_CACHE

    @staticmethod
    def of(text: str, content_type: str, cache_control: str = WIDGET_CACHE) -> Rendered:
        body = text.encode("utf-8")
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        return Rendered(body, gzip.compress(body, 6, mtime=0), f'"{digest}"', content_type, cache_control)


class WidgetCache:
    """Rendered answers by (business unit, path, query); per-unit invalidation; optional TTL."""

    def __init__(self, maxsize: int = 20_000) -> None:
        self.maxsize = maxsize
        self._entries: dict[tuple[str, str, bytes], tuple[float, Rendered]] = {}
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()

    def generation(self, business_unit: str) -> int:
        """Bumped by every invalidation: a render that started before one must not be cached."""
        return self._generations.get(business_unit, 0)

    def get(self, key: tuple[str, str, bytes]) -> Rendered | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        ttl = repository.cache_ttl()
        if ttl is not None and time.monotonic() - hit[0] > ttl:
            return None
        return hit[1]

    def put(self, key: tuple[str, str, bytes], value: Rendered, generation: int) -> None:
        with self._lock:
            if self.generation(key[0]) != generation:
                return  # the data changed while this was rendered
            if len(self._entries) >= self.maxsize:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), value)

    def invalidate(self, business_unit: str) -> None:
        with self._lock:
            self._generations[business_unit] = self.generation(business_unit) + 1
            self._entries = {k: v for k, v in self._entries.items() if k[0] != business_unit}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generations = {k: v + 1 for k, v in self._generations.items()}


cache = WidgetCache()
changes.subscribe(lambda business_unit, _products: cache.invalidate(business_unit), on_reset=cache.clear)


def _static(name: str, content_type: str) -> Rendered:
    text = resources.files("widgets").joinpath(f"static/{name}").read_text(encoding="utf-8")
    return Rendered.of(text, content_type, STATIC_CACHE)


STATIC = {
    "/widgets/loader.js": lambda: _static("loader.js", "application/javascript; charset=utf-8"),
    "/widgets/widgets.css": lambda: _static("widgets.css", "text/css; charset=utf-8"),
}
_static_cache: dict[str, Rendered] = {}


def bu_of(path: str) -> str | None:
    """The business unit a widget path belongs to (/widgets/{bu}/...), None for static files."""
    parts = path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "widgets" else None


def lookup(path: str, query: bytes) -> Rendered | None:
    """The cached answer for this exact request, or None (hot path: no I/O, no rendering)."""
    static = _static_cache.get(path)
    if static is not None:
        return static
    bu = bu_of(path)
    return None if bu is None else cache.get((bu, path, query))


def render(path: str, query: bytes) -> Rendered | None:
    """Render (and cache) the answer for a widget path; None if the path is not a widget."""
    if path in STATIC:
        _static_cache[path] = _static_cache.get(path) or STATIC[path]()
        return _static_cache[path]
    parts = path.split("/")
    if len(parts) < 4 or parts[1] != "widgets":
        return None
    bu_slug, rest = parts[2], "/".join(parts[3:])
    generation = cache.generation(bu_slug)
    params = {k: v[-1] for k, v in parse_qs(query.decode("latin-1"), keep_blank_values=True).items()}
    # Requests that differ only in parameters we ignore (cache busters) share one rendering.
    canonical = urlencode(sorted((k, v) for k, v in params.items() if k in KNOWN_PARAMS)).encode()
    only_known = params.keys() <= KNOWN_PARAMS  # cache-buster spellings are not kept, so they cannot flood the cache
    shared = cache.get((bu_slug, path, canonical))
    if shared is not None:
        if only_known:
            cache.put((bu_slug, path, query), shared, generation)
        return shared
    unit = repository.get_business_unit(bu_slug)
    locale = i18n.pick_locale(params.get("locale"), unit.locales)
    theme = params.get("theme") if params.get("theme") in ("light", "dark") else None
    if rest in _PATHS:
        kind = _PATHS[rest]
        if kind == "badge":
            fragment = markup.badge(unit, repository.get_summary(bu_slug), locale, unit.reviews_link, theme)
            answer = _html(fragment, locale, unit, params)
        elif kind == "svg":
            answer = Rendered.of(markup.badge_svg(unit, repository.get_summary(bu_slug), locale), "image/svg+xml")
        elif kind == "reviews":
            answer = _html(_reviews_fragment(unit, params, locale, theme), locale, unit, params)
        else:
            answer = Rendered.of(json.dumps(_data(unit, params, locale), ensure_ascii=False), "application/json")
    elif len(parts) == 6 and parts[3] == "products" and parts[5] == "stars.html":
        product = repository.get_product(bu_slug, parts[4])
        summary = repository.get_summary(bu_slug, product.sku)
        answer = _html(markup.product_stars(unit, summary, locale, theme), locale, unit, params)
    else:
        return None
    if only_known:
        cache.put((bu_slug, path, query), answer, generation)
    cache.put((bu_slug, path, canonical), answer, generation)
    return answer


def _html(fragment: str, locale: str, unit: domain.BusinessUnit, params: dict[str, str]) -> Rendered:
    if params.get("frame") in ("1", "true"):
        fragment = markup.frame_document(fragment, locale, unit.name)
    return Rendered.of(fragment, HTML)


def _limit(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw[:20]!r}", status=400)
    return int(raw)


def _reviews_fragment(unit: domain.BusinessUnit, params: dict[str, str], locale: str, theme: str | None) -> str:
    """The honest latest reviews; filters only when the page asks for them explicitly."""
    limit = _limit(params.get("limit") or params.get("reviews"), 5)
    product = params.get("product") or None
    if product is not None and product != repository.ALL_PRODUCTS:
        repository.get_product(unit.slug, product)
    rating = params.get("rating")
    if rating is not None and rating not in ("1", "2", "3", "4", "5"):
        raise InvalidInput("rating must be 1, 2, 3, 4 or 5", status=400)
    language = params.get("language") or None
    if language is not None and not re.match(r"^[a-z]{2}$", language):
        raise InvalidInput("language must be a two-letter code such as nl", status=400)
    page = repository.list_published(
        unit.slug, limit=limit, product=product, rating=int(rating) if rating else None, language=language
    )
    return markup.review_list(unit, page.items, locale, limit, unit.reviews_link, theme)


def _data(unit: domain.BusinessUnit, params: dict[str, str], locale: str) -> dict[str, object]:
    """Everything the loader needs for one page: badge, every listed product's stars, the reviews list."""
    skus = [s for s in (params.get("skus") or "").split(",") if s]
    if len(skus) > MAX_SKUS:
        raise InvalidInput(f"at most {MAX_SKUS} skus per page; got {len(skus)}", status=400)
    bad = [s for s in skus if not _SKU.match(s)]
    if bad:
        raise InvalidInput(f"not a sku: {bad[0][:40]!r}", status=400)
    summary = repository.get_summary(unit.slug)
    catalogue = repository.catalogue(unit.slug)
    products: dict[str, str | None] = {}
    figures: dict[str, dict[str, object] | None] = {}
    for sku in dict.fromkeys(skus):
        if sku not in catalogue:
            products[sku] = figures[sku] = None  # unknown on this shop: the loader shows its fallback
            continue
        product_summary = repository.get_summary(unit.slug, sku)
        products[sku] = markup.product_stars(unit, product_summary, locale)
        figures[sku] = _figures(product_summary, unit)
    data: dict[str, object] = {
        "business_unit": unit.slug,
        "locale": locale,
        "summary": _figures(summary, unit),
        "badge": markup.badge(unit, summary, locale, unit.reviews_link) if params.get("badge", "1") != "0" else None,
        "products": products,
        "product_summaries": figures,
        "reviews": None,
    }
    if params.get("reviews"):
        data["reviews"] = _reviews_fragment(unit, params, locale, None)
    return data


def _figures(summary: domain.RatingSummary, unit: domain.BusinessUnit) -> dict[str, object]:
    return {
        "review_count": summary.count,
        "average": summary.average,
        "display": {"value": summary.display_value(unit.display_scale), "scale": unit.display_scale},
        "stars": markup.half_stars(summary.stars(unit.display_scale)),
    }
