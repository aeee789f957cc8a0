"""Widget answers as prebuilt bytes: rendered once, cached per instance, invalidated by the change feed.

The hot path (`lookup`) is a dict read keyed by the raw request path and query string; a miss
resolves the parameters to what they render (`widgets.query`), finds or renders that answer
(`render`, which reads summaries and reviews through the repository), and lets the raw query
string find it next time only if it spells exactly that answer. A change to a business unit's
reviews or catalogue drops every cached answer of that business unit. The cache is the instance's
(`ServiceState.widgets`), handed in by the caller.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from reviews_service import domain, repository, review_policy
from reviews_service.cache import strong_etag
from reviews_service.i18n import gettext
from widgets import i18n
from widgets import query as widget_query
from widgets import render as markup
from widgets.query import WidgetQuery

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

WIDGET_CACHE = "public, max-age=60, stale-while-revalidate=600"
STATIC_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
HTML = "text/html; charset=utf-8"
# The pages that render on their own (an iframe's page, the SVG opened as a file): only our own stylesheet,
# no script, no plugin, no form; the SVG has no reference at all. Fragments and data.json get no CSP:
# they are parts of the shop's own page, under its policy.
FRAME_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
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
    payload: dict[str, object] | None = None  # data.json's object, to add unknown skus without re-rendering
    csp: str = ""  # Content-Security-Policy of the answer, if it is a document of its own

    @staticmethod
    def of(
        text: str,
        content_type: str,
        cache_control: str = WIDGET_CACHE,
        payload: dict[str, object] | None = None,
        csp: str = "",
    ) -> Rendered:
        """Encode, gzip and tag one answer."""
        body = text.encode("utf-8")
        gzipped = gzip.compress(body, 6, mtime=0)
        return Rendered(body, gzipped, strong_etag(body), content_type, cache_control, payload, csp)


def size_of(answer: Rendered) -> int:
    """What one answer costs in the widget cache (see ServiceState.widgets)."""
    return len(answer.body) + len(answer.gzipped) + 512  # the bytes and the object around them


# loader.js carries an English-only FALLBACK between these markers so that the file itself is valid JS.
_FALLBACK = re.compile(r"/\* catalogs \*/.*?/\* /catalogs \*/", re.DOTALL)


def _static(name: str, content_type: str) -> Rendered:
    text = resources.files("widgets").joinpath(f"static/{name}").read_text(encoding="utf-8")
    if name == "loader.js":
        text = _FALLBACK.sub(lambda _: fallback_words(), text, count=1)
    return Rendered.of(text, content_type, STATIC_CACHE)


def fallback_words() -> str:
    """The loader's link text when the service cannot be reached, per language, as a JS object literal (JSON)."""
    return json.dumps({locale: gettext(locale, "Read our reviews") for locale in i18n.LOCALES}, sort_keys=True)


STATIC = {
    "/widgets/loader.js": lambda: _static("loader.js", "application/javascript; charset=utf-8"),
    "/widgets/widgets.css": lambda: _static("widgets.css", "text/css; charset=utf-8"),
}


def bu_of(path: str) -> str | None:
    """The business unit a widget path belongs to (/widgets/{bu}/...), None for static files."""
    parts = path.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "widgets" else None


def is_widget(path: str) -> bool:
    """Whether `path` names a widget of some business unit: one of the known files, or a product's stars."""
    parts = path.split("/")
    if len(parts) < 4 or parts[1] != "widgets" or not parts[2]:
        return False
    if len(parts) == 4:
        return parts[3] in _PATHS
    return len(parts) == 6 and parts[3] == "products" and bool(parts[4]) and parts[5] == "stars.html"


def lookup(state: ServiceState, path: str, query: bytes) -> Rendered | None:
    """The cached answer for this exact request, or None (hot path: no I/O, no rendering)."""
    static = state.static_widgets.get(path)
    if static is not None:
        return static
    bu = bu_of(path)
    return None if bu is None else state.widgets.get((bu, path, query))


def lookup_stale(state: ServiceState, path: str, query: bytes) -> Rendered | None:
    """The answer a change elsewhere left for this exact request, while its grace lasts (WidgetCache.stale)."""
    bu = bu_of(path)
    return None if bu is None else state.widgets.stale((bu, path, query))


def render(state: ServiceState, path: str, query: bytes, base_url: str = "") -> Rendered | None:
    """Render (and cache) the answer for a widget path; None if the path is not a widget. `base_url`: the
    service's public URL, which the photos in review lists are linked on."""
    if path in STATIC:
        state.static_widgets[path] = state.static_widgets.get(path) or STATIC[path]()
        return state.static_widgets[path]
    parts = path.split("/")
    if len(parts) < 4 or parts[1] != "widgets":
        return None
    bu_slug, rest = parts[2], "/".join(parts[3:])
    if rest in _PATHS:
        kind, sku = _PATHS[rest], None
    elif len(parts) == 6 and parts[3] == "products" and parts[5] == "stars.html":
        kind, sku = "stars", parts[4]
    else:
        return None
    cache = state.widgets
    generation = cache.generation(bu_slug)
    last_generation = state.last_widgets.generation(bu_slug)  # before reading the store, as `generation`
    params, pairs = widget_query.parse(query)
    unit = repository.get_business_unit(state, bu_slug)
    if sku is not None:
        sku = repository.get_product(state, bu_slug, sku).sku
    wanted = widget_query.resolve(state, kind, unit, params)
    # Keyed by what is rendered: junk values and cache busters share the entry of what they render to.
    key = (bu_slug, path, wanted.canonical())
    answer = cache.get(key)
    deps = shown(wanted, sku)
    if answer is None:
        answer = _render(state, unit, wanted, sku, base_url)
        cache.put(key, answer, generation, deps)
    spelled = (bu_slug, path, query) if widget_query.spells(query, pairs, wanted.params()) else None
    if spelled is not None:
        cache.alias(spelled, key, answer, generation, deps)  # the next one is a plain dict hit
    state.last_widgets.record(key, answer, last_generation, spelled)  # what an outage answers with (outage.py)
    if wanted.unknown:
        answer = _with_unknown(answer, wanted.unknown)
    return answer


def shown(wanted: WidgetQuery, sku: str | None) -> frozenset[str | None] | None:
    """Whose summaries and reviews an answer shows: skus, None for the shop's own; None when it may be any (all
    products' reviews, or skus not in the catalogue yet, which a product created later would make known)."""
    if wanted.unknown or wanted.product in (repository.ALL_PRODUCTS, widget_query.UNKNOWN_PRODUCT):
        return None
    if wanted.kind == "stars":
        return frozenset({sku})
    if wanted.kind in ("badge", "svg"):
        return frozenset({None})
    if wanted.kind == "reviews":
        return frozenset({wanted.product})
    return frozenset({None, *wanted.skus, wanted.product})  # data.json: the badge, the page's stars, its list


def _render(
    state: ServiceState, unit: domain.BusinessUnit, wanted: WidgetQuery, sku: str | None, base_url: str
) -> Rendered:
    locale, theme = wanted.locale, wanted.theme
    about = review_policy.page_url(base_url, unit.slug, locale)
    if wanted.kind == "badge":
        summary = repository.get_summary(state, unit.slug)
        return _html(markup.badge(unit, summary, locale, unit.reviews_link, theme, about), unit, wanted)
    if wanted.kind == "svg":
        svg = markup.badge_svg(unit, repository.get_summary(state, unit.slug), locale)
        return Rendered.of(svg, "image/svg+xml", csp=SVG_CSP)
    if wanted.kind == "reviews":
        return _html(_reviews_fragment(state, unit, wanted, base_url), unit, wanted)
    if wanted.kind == "stars":
        summary = repository.get_summary(state, unit.slug, sku)
        return _html(markup.product_stars(unit, summary, locale, theme, about), unit, wanted)
    return _json(_data(state, unit, wanted, base_url))


def _json(data: dict[str, object]) -> Rendered:
    # "<" escaped so that no sniffing client could ever read an echoed sku as markup
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return Rendered.of(text, "application/json", payload=data)


def _with_unknown(answer: Rendered, unknown: tuple[str, ...]) -> Rendered:
    """The cached page answer plus null for each sku the shop does not have (built per request, never cached)."""
    data = dict(answer.payload or {})
    data["products"] = {**dict(data.get("products") or {}), **dict.fromkeys(unknown)}  # type: ignore[call-overload]
    data["product_summaries"] = {**dict(data.get("product_summaries") or {}), **dict.fromkeys(unknown)}  # type: ignore[call-overload]
    return _json(data)


def _html(fragment: str, unit: domain.BusinessUnit, wanted: WidgetQuery) -> Rendered:
    if wanted.frame:
        return Rendered.of(markup.frame_document(fragment, wanted.locale, unit.name), HTML, csp=FRAME_CSP)
    return Rendered.of(fragment, HTML)


def _reviews_fragment(
    state: ServiceState, unit: domain.BusinessUnit, wanted: WidgetQuery, base_url: str, empty_text: bool = True
) -> str:
    """The honest latest reviews; filters only when the page asks for them explicitly."""
    limit = wanted.limit or widget_query.DEFAULT_LIMIT
    page = repository.list_published(
        state, unit.slug, limit=limit, product=wanted.product, rating=wanted.rating, language=wanted.language
    )
    about = review_policy.page_url(base_url, unit.slug, wanted.locale)
    return markup.review_list(
        unit, page.items, wanted.locale, limit, unit.reviews_link, wanted.theme, empty_text, base_url, about
    )


def _data(state: ServiceState, unit: domain.BusinessUnit, wanted: WidgetQuery, base_url: str) -> dict[str, object]:
    """Everything the loader needs for one page: badge, every listed product's stars, the reviews list."""
    locale = wanted.locale
    about = review_policy.page_url(base_url, unit.slug, locale)
    summary = repository.get_summary(state, unit.slug)
    products: dict[str, str | None] = {}
    figures: dict[str, dict[str, object] | None] = {}
    summaries = repository.summaries_for(state, unit.slug, list(wanted.skus))  # one `$in` read for the page's skus
    for sku in wanted.skus:
        product_summary = summaries[sku]
        products[sku] = markup.product_stars(unit, product_summary, locale, about_url=about)
        figures[sku] = _figures(product_summary, unit)
    data: dict[str, object] = {
        "business_unit": unit.slug,
        "locale": locale,
        "summary": _figures(summary, unit),
        "badge": markup.badge(unit, summary, locale, unit.reviews_link, about_url=about) if wanted.badge else None,
        "products": products,
        "product_summaries": figures,
        "reviews": None,
    }
    if wanted.limit is not None and wanted.product != widget_query.UNKNOWN_PRODUCT:
        # the product's own stars on the same page already say "no reviews yet": the list need not repeat it
        repeat = wanted.product not in wanted.skus
        data["reviews"] = _reviews_fragment(state, unit, wanted, base_url, empty_text=repeat)
    return data


def _figures(summary: domain.RatingSummary, unit: domain.BusinessUnit) -> dict[str, object]:
    return {
        "review_count": summary.count,
        "average": summary.average,
        "display": {"value": summary.display_value(unit.display_scale), "scale": unit.display_scale},
        "stars": markup.half_stars(summary.stars(unit.display_scale)),
    }
