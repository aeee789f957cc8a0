"""A widget request's parameters, resolved to what will be rendered (the cache key) and validated.

Two requests that render the same bytes resolve to the same `WidgetQuery`: an unknown locale is
the shop's locale, an unknown theme is no theme, unknown skus are left out (data.json answers them
with null without rendering anything), so junk values cannot create cache entries of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from reviews_service import domain, repository
from reviews_service.errors import InvalidInput
from widgets import i18n

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

MAX_SKUS = 100
MAX_LIMIT = 20
DEFAULT_LIMIT = 5
UNKNOWN_PRODUCT = "?"  # the resolved `product` of data.json when the sku is not in the catalogue
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
KNOWN_PARAMS = {"locale", "theme", "frame", "limit", "reviews", "product", "rating", "language", "skus", "badge"}


@dataclass(frozen=True)
class WidgetQuery:
    """What one widget answer is made of; `params()` spells it canonically."""

    kind: str  # badge, svg, stars, reviews, data
    locale: str
    theme: str | None = None
    frame: bool = False
    limit: int | None = None  # reviews shown (None: data.json without a reviews list)
    product: str | None = None  # whose reviews: None the shop's, "*" all, a sku, or UNKNOWN_PRODUCT
    rating: int | None = None
    language: str | None = None
    skus: tuple[str, ...] = ()  # known skus, sorted
    unknown: tuple[str, ...] = ()  # asked for but not in the catalogue (not part of the key)
    badge: bool = True

    def params(self) -> dict[str, str]:
        """The resolved parameters this kind of widget uses, as query-string values."""
        found = {"locale": self.locale}
        if self.kind in ("badge", "stars", "reviews"):
            if self.theme:
                found["theme"] = self.theme
            if self.frame:
                found["frame"] = "1"
        if self.kind == "data":
            found["badge"] = "1" if self.badge else "0"
            if self.skus:
                found["skus"] = ",".join(self.skus)
        if self.limit is not None:
            found["reviews" if self.kind == "data" else "limit"] = str(self.limit)
        for name, value in (("product", self.product), ("rating", self.rating), ("language", self.language)):
            if value is not None:
                found[name] = str(value)
        return found

    def canonical(self) -> bytes:
        """The cache key's query: the resolved parameters, sorted."""
        return encode(sorted(self.params().items()))


def encode(pairs: list[tuple[str, str]]) -> bytes:
    """A query string as the loader writes it (encodeURIComponent; commas between skus kept)."""
    return "&".join(f"{k}={quote(v, safe=',')}" for k, v in pairs).encode()


def parse(query: bytes) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The parameters (last value wins) and the raw pairs in their order."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return dict(pairs), pairs


def spells(query: bytes, pairs: list[tuple[str, str]], resolved: dict[str, str]) -> bool:
    """Whether a raw query says exactly what it renders (each value as resolved, once, canonically encoded)."""
    names = [k for k, _ in pairs]
    return (
        len(set(names)) == len(names)
        and all(resolved.get(k) == v for k, v in pairs)
        and (query == encode(pairs) or (not pairs and not query))
    )


def resolve(state: ServiceState, kind: str, unit: domain.BusinessUnit, params: dict[str, str]) -> WidgetQuery:
    """Validate the parameters and resolve them to what will be rendered."""
    locale = i18n.pick_locale(params.get("locale"), unit.locales)
    if kind in ("svg",):
        return WidgetQuery(kind, locale)
    theme = params.get("theme") if params.get("theme") in ("light", "dark") else None
    frame = params.get("frame") in ("1", "true")
    if kind in ("badge", "stars"):
        return WidgetQuery(kind, locale, theme, frame)
    rating = params.get("rating") or None
    if rating is not None and rating not in ("1", "2", "3", "4", "5"):
        raise InvalidInput("rating must be 1, 2, 3, 4 or 5")
    language = params.get("language") or None
    if language is not None and not _LANGUAGE.match(language):
        raise InvalidInput("language must be a two-letter code such as nl")
    filters = {"rating": int(rating) if rating else None, "language": language}
    if kind == "reviews":
        limit = _limit(params.get("limit") or params.get("reviews")) or DEFAULT_LIMIT
        product = params.get("product") or None
        if product is not None and product != repository.ALL_PRODUCTS:
            product = repository.get_product(state, unit.slug, product).sku  # a fragment of an unknown product is a 404
        return WidgetQuery(kind, locale, theme, frame, limit, product, **filters)  # type: ignore[arg-type]
    return _data(state, unit, params, locale, filters)


def _data(
    state: ServiceState,
    unit: domain.BusinessUnit,
    params: dict[str, str],
    locale: str,
    filters: dict[str, int | str | None],
) -> WidgetQuery:
    asked = list(dict.fromkeys(s for s in (params.get("skus") or "").split(",") if s))
    if len(asked) > MAX_SKUS:
        raise InvalidInput(f"at most {MAX_SKUS} skus per page; got {len(asked)}")
    product = params.get("product") or None
    catalogue = repository.products(state, unit.slug, [*asked, *([product] if product else [])])  # one `$in` read
    known = tuple(sorted(s for s in asked if s in catalogue))
    unknown = tuple(s[:100] for s in asked if s not in catalogue)
    limit = _limit(params.get("reviews"))
    if limit is None:  # no reviews list asked for: its filters change nothing
        product, filters = None, {"rating": None, "language": None}
    elif product not in (None, repository.ALL_PRODUCTS) and (product not in catalogue or not _SKU.match(product)):
        product = UNKNOWN_PRODUCT  # that list is null; the rest of the page still renders
    return WidgetQuery(
        "data", locale, limit=limit, product=product, skus=known, unknown=unknown,
        badge=params.get("badge", "1") != "0", **filters,  # type: ignore[arg-type]
    )  # fmt: skip


def _limit(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw[:20]!r}")
    return int(raw)
