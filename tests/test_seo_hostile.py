"""POST /seo/validate against pages built to explode: each answers with a bounded report or a 422 naming its cap.

Pages that would run away on a naive validator are validated in a child process cut off at 30 s and
2 GB, so a regression fails the test instead of taking the suite down. Timings are in bench/hostile.py.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.hostile import plain_page, tag_flood
from seo import budget, validate
from tests.conftest import REVIEWS, _env

HOSTILE = Path(__file__).parent / "fixtures" / "seo-hostile"
HTML = {"Content-Type": "text/html"}


def _limit_child() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


def _validate_in_child(page: Path) -> dict[str, Any]:
    """`reviews seo-validate --json` on the page, in a child process with a time and memory limit."""
    run = subprocess.run(
        [*REVIEWS, "seo-validate", "--json", str(page)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
        preexec_fn=_limit_child,
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_rdfa_nodes_that_point_at_each_other_are_reported_once() -> None:
    """20 nodes, each pointing at the next twice and the last back at the first: 2**20 paths, 20 nodes."""
    report = _validate_in_child(HOSTILE / "rdfa-mutual.html")
    text = json.dumps(report)
    assert len(text) < 20_000
    names = re.findall(r'"name": \["?(\d+)', text) or re.findall(r'"name": "(\d+)"', text)
    assert sorted(names, key=int) == [str(i) for i in range(20)]  # every node once, none copied
    assert [item["syntax"] for item in report["items"]] == ["rdfa"]


def test_references_are_followed_by_the_checker_and_shown_once() -> None:
    """One AggregateRating node (out of range) and one Review node, each referenced by two Products."""
    page = """<html><body vocab="https://schema.org/">
    <div typeof="AggregateRating" resource="#rating">
      <b property="ratingValue">6</b><b property="reviewCount">3</b></div>
    <div typeof="Review" resource="#review"><b property="author">Sanne</b>
      <span property="reviewRating" typeof="Rating"><b property="ratingValue">4</b></span>
      <meta property="datePublished" content="2026-10-01"></div>
    <div typeof="Product"><b property="name">Chair</b><link property="aggregateRating" href="#rating">
      <link property="review" href="#review"></div>
    <div typeof="Product"><b property="name">Table</b><link property="aggregateRating" href="#rating">
      <link property="review" href="#review"></div>
    </body></html>"""
    report = validate.validate_html(page)
    problems = [(p["path"], p["rule"]) for p in report["problems"]]
    assert problems == [("aggregateRating.ratingValue", "rating-range")] * 2  # found through both references
    chair, table = report["items"]
    assert chair["aggregateRating"]["ratingValue"] == "6" and chair["review"]["@id"].endswith("#review")
    assert set(table["aggregateRating"]) == {"@id"} and set(table["review"]) == {"@id"}  # shown once


@pytest.mark.parametrize(
    ("page", "phrase"),
    [
        (lambda: (HOSTILE / "microdata-itemref.html").read_text(), "itemref copies"),
        (lambda: (HOSTILE / "microdata-deep.html").read_text(), "nested 25 deep"),
        (lambda: tag_flood(), f"over {budget.MAX_TAGS:,} elements"),
        (lambda: '<div itemscope><b itemprop="x">' + "y" * 1_100_000 + "</b></div>", "values add up"),
        (lambda: "<i itemscope></i>" * 3001, "3,001 elements carry"),
        (lambda: '<b typeof="Thing"></b>' + '<a rel="nofollow" href="/x">x</a>' * 3000, "3,001 elements carry"),
        (
            lambda: '<script type="application/ld+json">[' + ",".join(['{"a": 1}'] * 25_000) + "]</script>",
            "objects and arrays",
        ),
        (lambda: '<script type="application/ld+json">"' + "z" * 600_000 + '"</script>', "JSON-LD blocks are"),
        (
            lambda: (
                '<html><body vocab="https://schema.org/">'
                + "".join(
                    f'<div typeof="Thing" resource="#n{i}"><a property="url" href="#n{i + 1}"></a></div>'
                    for i in range(40)
                )
                + "</body></html>"
            ),
            "refer to each other",
        ),
    ],
    ids=[
        "itemref",
        "deep",
        "tag-flood",
        "long-values",
        "many-items",
        "rdfa-links",
        "jsonld-nodes",
        "jsonld-long",
        "rdfa-chain",
    ],
)
def test_pages_over_the_caps_are_a_422_naming_the_cap(client: TestClient, page: Any, phrase: str) -> None:
    answer = client.post("/seo/validate", content=page().encode(), headers=HTML)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert phrase in problem["detail"] and problem["title"] == "Page over the validator's limits"


def test_a_big_ordinary_page_is_still_read(client: TestClient) -> None:
    """58,000 ordinary elements around one RDFa Product: under every cap, and the Product is found."""
    answer = client.post("/seo/validate", content=plain_page().encode(), headers=HTML)
    assert answer.status_code == 200, answer.text[:300]
    assert [(i["syntax"], i["@type"], i["name"]) for i in answer.json()["items"]] == [("rdfa", ["Product"], "x")]
