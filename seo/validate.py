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
from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_xmldom_html
from lxml import etree

from reviews_service.errors import InvalidInput
from seo import budget

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


Parts = dict[str, list[tuple[bool, Any]]]  # property -> [(is a reference, the value or the node id)]


def _rdfa_items(graph: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """extruct's flat RDFa graph -> (nested items to check, the same items to report), short schema.org names.

    Each node is converted once. The items to check share those dicts wherever a node is referenced
    (cycles included), so the checker follows any path; the report inlines a node where it is first
    referenced and gives `{"@id": ...}` after that, so nodes pointing at each other cannot multiply.
    """
    nodes: dict[str, dict[str, Any]] = {str(n.get("@id")): n for n in graph if isinstance(n, dict)}
    parts: dict[str, Parts] = {}
    referenced: dict[str, int] = {}
    for node_id, node in nodes.items():
        entry: Parts = {}
        for key, values in node.items():
            if not SCHEMA.match(key) or not isinstance(values, list):
                continue
            found: list[tuple[bool, Any]] = []
            for value in values:
                if isinstance(value, dict) and "@value" in value:
                    found.append((False, value["@value"]))
                elif isinstance(value, dict) and value.get("@id") in nodes:
                    target = str(value["@id"])
                    found.append((True, target))
                    if target != node_id:
                        referenced[target] = referenced.get(target, 0) + 1
            entry[SCHEMA.sub("", key)] = found
        parts[node_id] = entry
    types = {i: [SCHEMA.sub("", str(t)) for t in n["@type"]] for i, n in nodes.items() if "@type" in n}
    resolved: dict[str, dict[str, Any]] = {i: ({"@type": types[i]} if i in types else {}) for i in nodes}
    for node_id, entry in parts.items():
        for key, found in entry.items():
            converted = [resolved[v] if is_ref else v for is_ref, v in found]
            resolved[node_id][key] = converted[0] if len(converted) == 1 else converted
    roots = [i for i in types if i not in referenced]
    report = _RdfaReport(parts, types, referenced)
    reported = [report.node(i, 1) for i in roots]
    for node_id in types:  # nodes only reachable through a cycle: reported where the cycle is entered
        if node_id not in report.emitted:
            roots.append(node_id)
            reported.append(report.node(node_id, 1))
    return [resolved[i] for i in roots], reported


class _RdfaReport:
    """Builds the reported items: each node inlined once, referenced by `{"@id": ...}` after that."""

    def __init__(self, parts: dict[str, Parts], types: dict[str, list[str]], referenced: dict[str, int]) -> None:
        self.parts, self.types, self.referenced = parts, types, referenced
        self.emitted: set[str] = set()

    def node(self, node_id: str, depth: int) -> dict[str, Any]:
        """One node, inlined the first time; refused past MAX_DEPTH (a chain of references)."""
        if node_id in self.emitted:
            return {"@id": node_id}
        if depth > budget.MAX_DEPTH:
            raise budget.OverBudget(
                f"RDFa nodes refer to each other over {budget.MAX_DEPTH} deep; the validator reads up to that."
            )
        self.emitted.add(node_id)
        # the @id only where a reference will point at it: a node referenced twice, or a root in a cycle
        out: dict[str, Any] = {"@id": node_id} if self.referenced.get(node_id, 0) > (depth > 1) else {}
        if node_id in self.types:
            out["@type"] = self.types[node_id]
        for key, found in self.parts[node_id].items():
            converted = [self.node(v, depth + 1) if is_ref else v for is_ref, v in found]
            out[key] = converted[0] if len(converted) == 1 else converted
        return out


def _jsonld(tree: Any, checker: Checker) -> list[dict[str, Any]]:
    """JSON-LD items, block by block: a block that does not parse is reported, the others still read."""
    items: list[dict[str, Any]] = []
    reader = JsonLdExtractor()
    for index, script in enumerate(tree.xpath('//script[@type="application/ld+json"]') if tree is not None else []):
        try:
            items += reader.extract_items(script)
        except UNREADABLE as exc:
            checker.add(
                f"script[{index}]", "json", f"JSON-LD block {index + 1} does not parse ({exc}); Google ignores it"
            )
    budget.check_jsonld(items)
    return items


def _flatten(items: list[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        if isinstance(item, dict) and "@graph" in item:
            yield from _flatten(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
        elif isinstance(item, dict):
            yield item


def _parse(html: str) -> Any:
    """One lxml tree for every syntax (pyRdfa's DOM flavour), within the budget; None if there is no element."""
    budget.check_tags(html)
    try:
        tree = parse_xmldom_html(html, encoding="UTF-8")
    except (etree.ParserError, ValueError):  # no element at all, or a str with an XML encoding declaration
        return None
    budget.check_tree(tree)
    return tree


def validate_html(html: str) -> dict[str, Any]:
    """`{"items": [...], "problems": [...]}` for one HTML page."""
    if len(html) > MAX_HTML:
        raise InvalidInput(f"The page is over {MAX_HTML:,} characters; validate a single page.", status=413)
    tree = _parse(html)
    found: list[dict[str, Any]] = []
    problems: list[Problem] = []
    jsonld_checker = Checker("json-ld")
    for item in _flatten(_jsonld(tree, jsonld_checker)):
        found.append({"syntax": "json-ld", **item})
        jsonld_checker.item(item, "", nested=False)
    problems += jsonld_checker.problems
    try:
        if tree is None:
            raise ValueError("the page has no element")
        microdata = extruct.extract(tree, syntaxes=["microdata"], uniform=True, errors="strict")["microdata"]
        rdfa = extruct.extract(budget.rdfa_tree(tree), syntaxes=["rdfa"], errors="strict")["rdfa"]
    except budget.OverBudget:
        raise
    except Exception as exc:  # extruct raises many kinds on broken HTML; the JSON-LD report still stands
        microdata, rdfa = [], []
        problems.append(Problem("", "html", f"microdata/RDFa could not be read: {exc}", "warning"))
    checked, reported = _rdfa_items(rdfa)
    for syntax, items, shown in (("microdata", microdata, microdata), ("rdfa", checked, reported)):
        checker = Checker(syntax)
        for item, view in zip(_flatten(items), _flatten(shown), strict=True):
            clean = {k: v for k, v in item.items() if k != "@context"}
            found.append({"syntax": syntax, **{k: v for k, v in view.items() if k != "@context"}})
            checker.item(clean, "", nested=False)
        problems += checker.problems
    return {"items": found, "problems": [asdict(p) for p in problems]}


def is_clean(report: dict[str, Any]) -> bool:
    """No problem of any severity."""
    return not report["problems"]


def dumps_report(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)
