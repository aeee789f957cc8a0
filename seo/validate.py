"""Check a page's review markup against Google's review-snippet rules, before Google does.

extruct reads JSON-LD, microdata and RDFa; every item found is normalised to one nested
JSON-LD-like shape and checked. Each problem names the property path, the rule, and a fix:
"aggregateRating.ratingValue 6 is above bestRating 5". Rules (Google Search Central,
https://developers.google.com/search/docs/appearance/structured-data/review-snippet):

    rating-value        ratingValue present: a number with '.' as decimal point, a percentage or a fraction
    rating-range        worstRating <= ratingValue <= bestRating (defaults 1, 5); best > worst; "60%", "6 / 10" in scale
    rating-count        aggregateRating has reviewCount or ratingCount, a whole number above 0
    one-aggregate       one aggregateRating per item
    author              a review has an author with a name under 100 characters (not a promotion)
    review-rating       a review snippet needs reviewRating.ratingValue
    date                datePublished is recommended, as an ISO 8601 date
    item-reviewed       a top-level Review or AggregateRating says what it is about
    product-name        a Product has a name
    product-snippet     a Product has review, aggregateRating or offers: Google requires one for a product snippet
    self-serving        Organization/LocalBusiness reviews on the business's own site earn no stars
    json                a JSON-LD block that does not parse is ignored by Google

product-snippet follows Google's product snippet documentation
(https://developers.google.com/search/docs/appearance/structured-data/product-snippet), which lists one
of review, aggregateRating and offers among a Product's required properties.

"Markup must match visible content" cannot be decided from markup alone (widgets render the
same figures by construction); it is not checked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import extruct
from bs4 import BeautifulSoup
from lxml import etree

from reviews_service.errors import InvalidInput

SCHEMA = re.compile(r"^https?://schema\.org/")
SELF_SERVING_TYPES = {
    "Organization", "LocalBusiness", "Corporation", "OnlineBusiness", "OnlineStore", "Store", "FurnitureStore",
    "HomeGoodsStore", "ElectronicsStore", "ClothingStore", "Restaurant", "Hotel", "ProfessionalService",
    "InsuranceAgency", "FinancialService", "AutomotiveBusiness", "HealthAndBeautyBusiness", "NGO",
}  # fmt: skip
PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
FRACTION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*")
PROMOTIONAL = re.compile(r"(\d+\s*%|\bkorting\b|\bdiscount\b|\bsale\b|\bcoupon\b|https?://|www\.)", re.IGNORECASE)
MAX_HTML = 5 * 1024 * 1024
# what reading JSON-LD raises on a bad block: bad JSON, JSON nested too deep, or a page with no element at all
UNREADABLE = (ValueError, TypeError, RecursionError, etree.ParserError)


@dataclass(frozen=True)
class Problem:
    """One rule broken at one property path."""

    path: str
    rule: str
    message: str
    severity: str  # "error": not eligible / invalid; "warning": recommended or policy
    syntax: str = ""


def types_of(item: dict[str, Any]) -> set[str]:
    raw = item.get("@type", [])
    values = raw if isinstance(raw, list) else [raw]
    return {SCHEMA.sub("", str(v)) for v in values}


def _number(value: Any) -> float | None:
    """A finite number, or None (NaN and Infinity parse in Python's json but are not JSON numbers)."""
    if isinstance(value, bool):
        return None
    if not isinstance(value, int | float) and not (
        isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value)
    ):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def _fmt(value: float) -> str:
    return f"{value:g}"


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


class Checker:
    """Walks normalised items and collects problems."""

    def __init__(self, syntax: str) -> None:
        self.syntax = syntax
        self.problems: list[Problem] = []

    def add(self, path: str, rule: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(path, rule, message, severity, self.syntax))

    def item(self, item: dict[str, Any], path: str, nested: bool) -> None:
        kinds = types_of(item)
        if "Product" in kinds and not str(_single(item.get("name")) or "").strip():
            self.add(f"{path}.name" if path else "name", "product-name", "a Product needs a name; add `name`")
        if "Product" in kinds and not any(item.get(key) for key in ("review", "aggregateRating", "offers")):
            self.add(
                path or "Product",
                "product-snippet",
                "a Product needs review, aggregateRating or offers: Google requires one of them for a product "
                "snippet; add the shop's offers (price, availability) to this Product, or leave the Product out "
                "until it has reviews",
            )
        if kinds & SELF_SERVING_TYPES and ("aggregateRating" in item or "review" in item):
            kind = sorted(kinds & SELF_SERVING_TYPES)[0]
            article = "an" if kind[0] in "AEIOU" else "a"
            self.add(
                path or kind,
                "self-serving",
                f"reviews of {article} {kind} shown on its own site earn no stars in Google (self-serving reviews, "
                "2019); the markup is valid but not eligible: put ratings on your Products instead",
                "warning",
            )
        if "Review" in kinds:
            self.review(item, path, nested)
        if "AggregateRating" in kinds:
            self.aggregate(item, path, nested)
        prefix = f"{path}." if path else ""
        ratings = item.get("aggregateRating")
        if isinstance(ratings, list) and len(ratings) > 1:
            self.add(f"{prefix}aggregateRating", "one-aggregate", "more than one aggregateRating; keep exactly one")
        for rating in ratings if isinstance(ratings, list) else [ratings] if ratings is not None else []:
            if isinstance(rating, dict):
                self.aggregate(rating, f"{prefix}aggregateRating", nested=True)
            else:
                self.add(
                    f"{prefix}aggregateRating", "rating-value", "aggregateRating must be an AggregateRating object"
                )
        reviews = item.get("review")
        review_list = reviews if isinstance(reviews, list) else [reviews] if reviews is not None else []
        for index, review in enumerate(review_list):
            where = f"{prefix}review[{index}]" if isinstance(reviews, list) else f"{prefix}review"
            if isinstance(review, dict):
                self.review(review, where, nested=True)
            else:
                self.add(where, "author", "review must be a Review object with an author and a reviewRating")

    def _bounds(self, rating: dict[str, Any], path: str) -> tuple[float, float]:
        best = _number(_single(rating.get("bestRating", 5)))
        worst = _number(_single(rating.get("worstRating", 1)))
        if best is None or worst is None:
            self.add(path, "rating-range", "bestRating and worstRating must be numbers")
            return 5.0, 1.0
        if best <= worst:
            self.add(
                f"{path}.bestRating", "rating-range", f"bestRating {_fmt(best)} must be above worstRating {_fmt(worst)}"
            )
        return best, worst

    def _value(self, rating: dict[str, Any], path: str) -> None:
        raw = _single(rating.get("ratingValue"))
        where = f"{path}.ratingValue"
        if raw is None or raw == "":
            self.add(where, "rating-value", "ratingValue is required")
            return
        if isinstance(raw, str) and self._scaled_value(raw, where):
            return
        value = _number(raw)
        if value is None:
            hint = " (use '.' as the decimal point)" if isinstance(raw, str) and "," in raw else ""
            self.add(where, "rating-value", f"ratingValue {str(raw)[:20]!r} is not a number{hint}")
            return
        best, worst = self._bounds(rating, path)
        if value > best:
            self.add(where, "rating-range", f"{where} {_fmt(value)} is above bestRating {_fmt(best)}")
        elif value < worst:
            self.add(where, "rating-range", f"{where} {_fmt(value)} is below worstRating {_fmt(worst)}")

    def _scaled_value(self, raw: str, where: str) -> bool:
        """A percentage or fraction ratingValue (its scale is in the value itself): checked here, True.
        Anything else: False."""
        if match := PERCENT.fullmatch(raw):
            if float(match[1]) > 100:
                self.add(where, "rating-range", f"{where} {raw.strip()} is above 100%")
            return True
        if match := FRACTION.fullmatch(raw):
            part, whole = float(match[1]), float(match[2])
            if whole == 0:
                self.add(where, "rating-range", f"{where} {raw.strip()!r}: the scale after '/' must be above 0")
            elif part > whole:
                self.add(where, "rating-range", f"{where} {raw.strip()} is above its scale {_fmt(whole)}")
            return True
        return False

    def aggregate(self, rating: dict[str, Any], path: str, nested: bool) -> None:
        path = path or "AggregateRating"
        self._value(rating, path)
        counts = {k: _single(rating.get(k)) for k in ("reviewCount", "ratingCount") if rating.get(k) is not None}
        if not counts:
            self.add(path, "rating-count", "an aggregateRating needs reviewCount or ratingCount")
        for key, raw in counts.items():
            value = _number(raw)
            if value is None or value != int(value) or value < 1:
                self.add(
                    f"{path}.{key}",
                    "rating-count",
                    f"{key} {str(raw)[:20]!r} must be a whole number above 0; "
                    "leave aggregateRating out without reviews",
                )
        if not nested and "itemReviewed" not in rating:
            self.add(path, "item-reviewed", "a top-level AggregateRating needs itemReviewed (or nest it in the item)")

    def review(self, review: dict[str, Any], path: str, nested: bool) -> None:
        path = path or "Review"
        author = _single(review.get("author"))
        name = author.get("name") if isinstance(author, dict) else author
        name = _single(name)
        if not author or not isinstance(name, str) or not name.strip():
            self.add(f"{path}.author", "author", "a review needs an author with a name (a Person's display name)")
        elif len(name) >= 100:
            self.add(f"{path}.author.name", "author", f"the author name is {len(name)} characters; keep it under 100")
        elif PROMOTIONAL.search(name):
            self.add(f"{path}.author.name", "author", f"author {name[:40]!r} looks like promotional text, not a name")
        rating = _single(review.get("reviewRating"))
        if not isinstance(rating, dict):
            self.add(f"{path}.reviewRating", "review-rating", "a review snippet needs reviewRating with a ratingValue")
        else:
            self._value(rating, f"{path}.reviewRating")
        published = _single(review.get("datePublished"))
        if published is None:
            self.add(f"{path}.datePublished", "date", "datePublished is recommended (e.g. 2026-11-20)", "warning")
        else:
            try:
                date.fromisoformat(str(published)[:10])
            except ValueError:
                self.add(
                    f"{path}.datePublished", "date", f"datePublished {str(published)[:30]!r} is not an ISO 8601 date"
                )
        if not nested and "itemReviewed" not in review:
            self.add(
                path, "item-reviewed", "a top-level Review needs itemReviewed (or nest it in the item it is about)"
            )


def _rdfa_items(graph: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """extruct's flat RDFa graph -> nested items with schema.org short names."""
    nodes: dict[str, dict[str, Any]] = {str(n.get("@id")): n for n in graph if isinstance(n, dict)}
    referenced: set[str] = set()

    def convert(node: dict[str, Any], seen: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "@type" in node:
            out["@type"] = [SCHEMA.sub("", t) for t in node["@type"]]
        for key, values in node.items():
            if not SCHEMA.match(key):
                continue
            converted = []
            for value in values:
                if isinstance(value, dict) and "@value" in value:
                    converted.append(value["@value"])
                elif isinstance(value, dict) and value.get("@id") in nodes and value["@id"] not in seen:
                    referenced.add(value["@id"])
                    converted.append(convert(nodes[value["@id"]], seen | {value["@id"]}))
            out[SCHEMA.sub("", key)] = converted[0] if len(converted) == 1 else converted
        return out

    converted = {i: convert(n, frozenset({i})) for i, n in nodes.items() if "@type" in n}
    return [item for i, item in converted.items() if i not in referenced]


def _jsonld(html: str, checker: Checker) -> list[dict[str, Any]]:
    """JSON-LD items via extruct; a block that does not parse is reported, the others still read."""
    try:
        found: list[dict[str, Any]] = extruct.extract(html, syntaxes=["json-ld"], uniform=True, errors="strict")[
            "json-ld"
        ]
        return found
    except UNREADABLE:
        pass
    items: list[dict[str, Any]] = []
    soup = BeautifulSoup(html, "html.parser")
    for index, script in enumerate(soup.find_all("script", attrs={"type": "application/ld+json"})):
        block = f'<html><body><script type="application/ld+json">{script.string or ""}</script></body></html>'
        try:
            items += extruct.extract(block, syntaxes=["json-ld"], uniform=True, errors="strict")["json-ld"]
        except UNREADABLE as exc:
            checker.add(
                f"script[{index}]", "json", f"JSON-LD block {index + 1} does not parse ({exc}); Google ignores it"
            )
    return items


def _flatten(items: list[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        if isinstance(item, dict) and "@graph" in item:
            yield from _flatten(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
        elif isinstance(item, dict):
            yield item


def validate_html(html: str) -> dict[str, Any]:
    """`{"items": [...], "problems": [...]}` for one HTML page."""
    if len(html) > MAX_HTML:
        raise InvalidInput(f"The page is over {MAX_HTML:,} characters; validate a single page.", status=413)
    found: list[dict[str, Any]] = []
    problems: list[Problem] = []
    jsonld_checker = Checker("json-ld")
    for item in _flatten(_jsonld(html, jsonld_checker)):
        found.append({"syntax": "json-ld", **item})
        jsonld_checker.item(item, "", nested=False)
    problems += jsonld_checker.problems
    try:
        other = extruct.extract(html, syntaxes=["microdata", "rdfa"], uniform=True, errors="ignore")
    except Exception as exc:  # extruct raises many kinds on broken HTML; the JSON-LD report still stands
        other = {}
        problems.append(Problem("", "html", f"microdata/RDFa could not be read: {exc}", "warning"))
    for syntax, items in (("microdata", other.get("microdata", [])), ("rdfa", _rdfa_items(other.get("rdfa", [])))):
        checker = Checker(syntax)
        for item in _flatten(items):
            clean = {k: v for k, v in item.items() if k != "@context"}
            found.append({"syntax": syntax, **clean})
            checker.item(clean, "", nested=False)
        problems += checker.problems
    return {"items": found, "problems": [asdict(p) for p in problems]}


def is_clean(report: dict[str, Any]) -> bool:
    """No problem of any severity."""
    return not report["problems"]


def dumps_report(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)
