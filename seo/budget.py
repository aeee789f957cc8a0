"""What one page may cost the validator: caps checked before extruct runs, so no page can blow it up.

extruct's work grows with what a page declares, not with its size: a microdata `itemref` copies the
referenced properties into every item that names it (quadratic), every nested `itemprop` carries the
whole text below it (depth x text), `rdfa:copy` copies a pattern into every node that points at it,
and pyRdfa walks every element of the page. A few kilobytes can ask for gigabytes. So the page is
measured first, cheaply, and refused with a 422 naming the cap it is over; RDFa then reads a copy of
the tree pruned to the elements that can carry RDFa. Together these keep any page under the body
limit within about a second and a few tens of megabytes (bench/hostile.py measures it).
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from reviews_service.errors import InvalidInput

MAX_TAGS = 60_000  # elements in the page (a large shop page has a few thousand)
MAX_DATA_ELEMENTS = 3_000  # elements carrying microdata or RDFa, counting each itemref'd copy
MAX_DEPTH = 24  # items and properties nested in each other (Product > review > author > name is 4)
MAX_VALUE_CHARS = 1_000_000  # text and attribute values the properties add up to: the report's size
MAX_COPIES = 20_000  # rdfa:copy references x elements they may copy
MAX_JSONLD_CHARS = 512 * 1024  # json.loads builds about 20 times its text in the worst case
MAX_JSONLD_NODES = 20_000  # objects and arrays in all JSON-LD blocks together
MAX_REPORT_CHARS = 4_000_000  # the answer itself, the last line of defence

DATA = "@itemscope or @itemprop or @typeof or @property"
# attributes by which an element takes part in RDFa (href/src matter only under @rel/@rev, kept whole)
RDFA = "@typeof or @property or @rel or @rev or @about or @resource or @vocab or @prefix or @inlist or @datatype"


class OverBudget(InvalidInput):
    """A page that asks the validator for more work than any real page needs."""

    title = "Page over the validator's limits"
    type_slug = "page-over-limits"

    def __init__(self, detail: str) -> None:
        super().__init__(detail + " Validate the page of a single product, or send just its markup.", status=422)


class _Counter:
    """An lxml parser target that only counts start tags: counting builds no tree."""

    def __init__(self) -> None:
        self.tags = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.tags += 1

    def close(self) -> int:
        return self.tags


def check_tags(html: str) -> None:
    """Refuse a page with more than MAX_TAGS elements before a tree of it is built."""
    if html.count("<") - html.count("</") <= MAX_TAGS:  # every element opens with a '<': most pages stop here
        return
    counter = _Counter()
    parser = etree.HTMLParser(target=counter)
    step = 64 * 1024
    for start in range(0, len(html), step):  # stop feeding once over: the cost is bounded by the cap
        parser.feed(html[start : start + step])
        if counter.tags > MAX_TAGS:
            raise OverBudget(f"The page has over {MAX_TAGS:,} elements.")


def check_tree(tree: Any) -> None:
    """Refuse a tree whose microdata or RDFa would make extruct's work explode (see the module docstring)."""
    marked = tree.xpath(f"//*[{DATA} or @itemref or {RDFA}]")  # one walk of the tree
    data = [e for e in marked if any(e.get(a) is not None for a in ("itemscope", "itemprop", "typeof", "property"))]
    # where RDFa is read, every @rel link becomes a triple too (pyRdfa's slowest part)
    rdfa = sum(1 for e in marked if e.get("typeof") is not None or e.get("property") is not None)
    linked = sum(1 for e in marked if e.get("rel") is not None or e.get("rev") is not None) if rdfa else 0
    if len(data) + linked > MAX_DATA_ELEMENTS:
        raise OverBudget(
            f"{len(data) + linked:,} elements carry microdata or RDFa (rel links included on an RDFa page); "
            f"the validator reads up to {MAX_DATA_ELEMENTS:,}."
        )
    copies, values = len(data), 0
    for element in data:
        depth = int(element.xpath(f"count(ancestor-or-self::*[{DATA}])"))
        if depth > MAX_DEPTH:
            raise OverBudget(f"Items and properties are nested {depth} deep; the validator reads up to {MAX_DEPTH}.")
        values = _add_values(values, element)  # checked as it grows: each step costs at most the page's size
    for element in (e for e in marked if e.get("itemref") is not None):
        for ref in str(element.get("itemref")).split():
            targets = tree.xpath("id($ref)", ref=ref)[:1]
            # each reference costs at least a look-up, and copies every microdata element below its target
            copies += max(1, int(targets[0].xpath(f"count(descendant-or-self::*[{DATA}])")) if targets else 1)
            if copies > MAX_DATA_ELEMENTS:
                raise OverBudget(
                    f"itemref copies make over {MAX_DATA_ELEMENTS:,} microdata elements; "
                    "the validator reads up to that many."
                )
            if targets:
                values = _add_values(values, targets[0])
    patterns = sum(1 for e in marked if "copy" in str(e.get("property", "")) + str(e.get("rel", "")))
    if patterns * len(data) > MAX_COPIES:
        raise OverBudget(f"{patterns:,} rdfa:copy references over {len(data):,} RDFa elements copy too much.")
    _check_jsonld_text(tree)


def _add_values(values: int, element: Any) -> int:
    """`values` plus what the element's value may add to the report (its text and attributes), within the cap."""
    values += int(element.xpath("string-length(.)")) + sum(len(v) for v in element.attrib.values())
    if values > MAX_VALUE_CHARS:
        raise OverBudget(f"The properties' values add up to over {MAX_VALUE_CHARS:,} characters.")
    return values


def _check_jsonld_text(tree: Any) -> None:
    blocks = [str(s.text or "") for s in tree.xpath("//script") if "ld+json" in str(s.get("type", "")).lower()]
    chars = sum(len(block) for block in blocks)
    if chars > MAX_JSONLD_CHARS:
        raise OverBudget(
            f"The JSON-LD blocks are {chars:,} characters; the validator reads up to {MAX_JSONLD_CHARS:,}."
        )


def check_jsonld(items: list[Any]) -> None:
    """Refuse JSON-LD with over MAX_JSONLD_NODES objects and arrays, or nested over MAX_DEPTH (no recursion)."""
    stack: list[tuple[Any, int]] = [(item, 1) for item in items]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_JSONLD_NODES:
            raise OverBudget(f"The JSON-LD has over {MAX_JSONLD_NODES:,} objects and arrays.")
        if depth > MAX_DEPTH + 2:  # '@graph' and a list each add a level
            raise OverBudget(f"The JSON-LD is nested over {MAX_DEPTH} levels deep.")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def rdfa_tree(tree: Any) -> Any:
    """The tree with every subtree that cannot carry RDFa removed (pyRdfa's walk is the slow part).

    Kept: elements with an RDFa attribute, their ancestors, everything below @property (its text is
    the value) and below @rel/@rev (a plain link there completes the relation), and <base>.
    The tree is changed in place: run the other syntaxes first.
    """
    keep: set[Any] = set()
    if not tree.xpath("boolean(//*[@typeof or @property])"):  # no RDFa item can come out: skip the walk
        for child in list(tree):
            tree.remove(child)
        return tree
    for element in tree.xpath(f"//*[{RDFA}] | //base"):
        while element is not None and element not in keep:
            keep.add(element)
            element = element.getparent()
    removals: list[Any] = []
    stack = [tree]
    while stack:
        element = stack.pop()
        if element.get("property") is not None or element.get("rel") is not None or element.get("rev") is not None:
            continue  # kept whole
        for child in element:
            (stack if child in keep else removals).append(child)
    for element in removals:
        element.getparent().remove(element)
    return tree


def check_report(text: str) -> None:
    """Refuse an answer over MAX_REPORT_CHARS (the caps above should keep every report well under it)."""
    if len(text) > MAX_REPORT_CHARS:
        raise OverBudget(f"The report is over {MAX_REPORT_CHARS:,} characters.")


def dumps(report: dict[str, Any]) -> str:
    """The report as JSON, within MAX_REPORT_CHARS."""
    text = json.dumps(report, ensure_ascii=False)
    check_report(text)
    return text
