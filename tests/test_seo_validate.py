"""The review-markup validator: one hand-made broken page per rule (JSON-LD, microdata, RDFa), clean pages,
`POST /seo/validate` (HTML, JSON, URL with its SSRF guard, limits) and `reviews seo-validate`."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import store
from reviews_service.api import seo as seo_api
from reviews_service.api.deps import now_dep
from reviews_service.api.seo import fetch_page
from reviews_service.app import create_app
from reviews_service.errors import InvalidInput
from seo import validate
from tests.conftest import NOW, REVIEWS, _env, local_http_server, make_settings

FIXTURES = Path(__file__).parent / "fixtures" / "seo"
RULES = [
    "rating-value", "rating-range", "rating-count", "one-aggregate", "author", "review-rating", "date",
    "item-reviewed", "product-name", "product-snippet", "self-serving", "json",
]  # fmt: skip
HTML = {"Content-Type": "text/html; charset=utf-8"}

# fixture (tests/fixtures/seo/<name>.html) -> the one problem it must report: (path, rule, severity, syntax, phrase)
BROKEN: dict[str, tuple[str, str, str, str, str]] = {
    "rating-value-missing": (
        "aggregateRating.ratingValue", "rating-value", "error", "json-ld", "ratingValue is required"
    ),
    "rating-value-comma": (
        "aggregateRating.ratingValue", "rating-value", "error", "json-ld",
        "ratingValue '4,4' is not a number (use '.' as the decimal point)",
    ),
    "rating-value-nan": ("aggregateRating.ratingValue", "rating-value", "error", "json-ld", "is not a number"),
    "rating-value-microdata": (
        "aggregateRating.ratingValue", "rating-value", "error", "microdata",
        "ratingValue '4,4' is not a number (use '.' as the decimal point)",
    ),
    "rating-value-rdfa": (
        "aggregateRating.ratingValue", "rating-value", "error", "rdfa",
        "ratingValue '4,4' is not a number (use '.' as the decimal point)",
    ),
    "rating-range-above": (
        "aggregateRating.ratingValue", "rating-range", "error", "json-ld",
        "aggregateRating.ratingValue 6 is above bestRating 5",
    ),
    "rating-range-below": (
        "review[0].reviewRating.ratingValue", "rating-range", "error", "json-ld",
        "review[0].reviewRating.ratingValue 1 is below worstRating 2",
    ),
    "rating-range-bounds": (
        "aggregateRating.bestRating", "rating-range", "error", "json-ld", "bestRating 5 must be above worstRating 5"
    ),
    "rating-range-microdata": (
        "aggregateRating.ratingValue", "rating-range", "error", "microdata",
        "aggregateRating.ratingValue 6 is above bestRating 5",
    ),
    "rating-range-rdfa": (
        "aggregateRating.ratingValue", "rating-range", "error", "rdfa",
        "aggregateRating.ratingValue 6 is above bestRating 5",
    ),
    "rating-count-missing": ("aggregateRating", "rating-count", "error", "json-ld", "needs reviewCount or ratingCount"),
    "rating-count-zero": (
        "aggregateRating.reviewCount", "rating-count", "error", "json-ld",
        "reviewCount '0' must be a whole number above 0",
    ),
    "rating-count-infinity": (
        "aggregateRating.reviewCount", "rating-count", "error", "json-ld", "must be a whole number above 0"
    ),
    "one-aggregate-two": ("aggregateRating", "one-aggregate", "error", "json-ld", "more than one aggregateRating"),
    "author-missing": ("review.author", "author", "error", "json-ld", "a review needs an author with a name"),
    "author-long": (
        "review[0].author.name", "author", "error", "json-ld", "the author name is 130 characters; keep it under 100"
    ),
    "author-promotional": (
        "review[0].author.name", "author", "error", "json-ld",
        "author '50% korting op alle stoelen' looks like promotional text",
    ),
    "review-rating-missing": (
        "review[0].reviewRating", "review-rating", "error", "json-ld", "a review snippet needs reviewRating"
    ),
    "date-missing": ("review[0].datePublished", "date", "warning", "json-ld", "datePublished is recommended"),
    "date-invalid": (
        "review[0].datePublished", "date", "error", "json-ld", "datePublished '1 oktober 2026' is not an ISO 8601 date"
    ),
    "item-reviewed-review": ("Review", "item-reviewed", "error", "json-ld", "a top-level Review needs itemReviewed"),
    "item-reviewed-aggregate": (
        "AggregateRating", "item-reviewed", "error", "json-ld", "a top-level AggregateRating needs itemReviewed"
    ),
    "product-name-missing": ("name", "product-name", "error", "json-ld", "a Product needs a name"),
    "product-snippet-missing": (
        "Product", "product-snippet", "error", "json-ld",
        "a Product needs review, aggregateRating or offers: Google requires one of them for a product snippet",
    ),
    "self-serving-organization": (
        "Organization", "self-serving", "warning", "json-ld",
        "reviews of an Organization shown on its own site earn no stars",
    ),
    "self-serving-store": ("FurnitureStore", "self-serving", "warning", "json-ld", "earn no stars in Google"),
    "json-broken": ("script[0]", "json", "error", "json-ld", "JSON-LD block 1 does not parse"),
}  # fmt: skip
CLEAN = {"clean-jsonld": "json-ld", "clean-microdata": "microdata", "clean-rdfa": "rdfa"}


def _page(name: str) -> str:
    return (FIXTURES / f"{name}.html").read_text(encoding="utf-8")


def _types(item: dict[str, Any]) -> list[str]:
    raw = item.get("@type")
    return raw if isinstance(raw, list) else [raw]


# --- the rules, page by page ---------------------------------------------------------------------


def test_every_rule_in_the_docstring_has_a_broken_page() -> None:
    documented = [line.split()[0] for line in validate.__doc__.splitlines() if line.startswith("    ")]  # type: ignore[union-attr]
    assert documented == RULES
    covered = {rule for _, rule, _, _, _ in BROKEN.values()}
    assert covered == set(RULES)
    for rule in ("rating-range", "rating-value"):
        assert {syntax for _, r, _, syntax, _ in BROKEN.values() if r == rule} == {"json-ld", "microdata", "rdfa"}
    on_disk = {p.stem for p in FIXTURES.glob("*.html")}
    assert set(BROKEN) | set(CLEAN) <= on_disk
    assert all(name.startswith(tuple(RULES)) for name in BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_page_reports_exactly_its_problem(name: str) -> None:
    path, rule, severity, syntax, phrase = BROKEN[name]
    assert name.startswith(rule)
    report = validate.validate_html(_page(name))
    assert len(report["problems"]) == 1, report["problems"]
    problem = report["problems"][0]
    assert (problem["path"], problem["rule"], problem["severity"], problem["syntax"]) == (path, rule, severity, syntax)
    assert phrase in problem["message"]
    assert not validate.is_clean(report)


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_a_clean_page_of_each_syntax_reports_nothing(name: str) -> None:
    report = validate.validate_html(_page(name))
    assert report["problems"] == []
    assert validate.is_clean(report)
    assert [(i["syntax"], _types(i)) for i in report["items"]] == [(CLEAN[name], ["Product"])]
    product = report["items"][0]
    rating = product["aggregateRating"]
    rating = rating[0] if isinstance(rating, list) else rating
    assert float(rating["ratingValue"]) == 4.4 and int(rating["reviewCount"]) == 12


def test_a_broken_block_is_reported_and_the_valid_block_is_still_checked() -> None:
    report = validate.validate_html(_page("json-mixed"))
    problems = {(p["path"], p["rule"]) for p in report["problems"]}
    assert problems == {("script[1]", "json"), ("aggregateRating.ratingValue", "rating-range")}
    assert [i["name"] for i in report["items"]] == ["Oak chair"]

    first = validate.validate_html(_page("json-broken-first"))
    assert [(p["path"], p["rule"], p["severity"]) for p in first["problems"]] == [("script[0]", "json", "error")]
    assert "JSON-LD block 1 does not parse" in first["problems"][0]["message"]
    assert [(i["name"], i["review"][0]["author"]["name"]) for i in first["items"]] == [("Oak chair", "Sanne V.")]


def test_bounds_on_a_ten_point_scale_are_honoured() -> None:
    markup = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Lamp",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": 8.8, "reviewCount": 3, "bestRating": 10,
                            "worstRating": 2},
    }  # fmt: skip
    page = f'<script type="application/ld+json">{json.dumps(markup)}</script>'
    assert validate.validate_html(page)["problems"] == []
    del markup["aggregateRating"]["bestRating"]  # type: ignore[attr-defined]
    problems = validate.validate_html(f'<script type="application/ld+json">{json.dumps(markup)}</script>')["problems"]
    assert [(p["rule"], p["message"]) for p in problems] == [
        ("rating-range", "aggregateRating.ratingValue 8.8 is above bestRating 5")
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60%", []),
        (" 100 % ", []),
        ("6 / 10", []),
        ("8.8/10", []),
        ("160%", [("rating-range", "aggregateRating.ratingValue 160% is above 100%")]),
        ("11 / 10", [("rating-range", "aggregateRating.ratingValue 11 / 10 is above its scale 10")]),
        ("3 / 0", [("rating-range", "aggregateRating.ratingValue '3 / 0': the scale after '/' must be above 0")]),
        ("-5%", [("rating-value", "ratingValue '-5%' is not a number")]),
        ("6 of 10", [("rating-value", "ratingValue '6 of 10' is not a number")]),
    ],
)
def test_percentages_and_fractions_carry_their_own_scale(value: str, expected: list[tuple[str, str]]) -> None:
    """Google accepts ratingValue "60%" and "6 / 10" (the scale is in the value; bestRating does not apply)."""
    markup = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Lamp",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": value, "reviewCount": 3},
    }
    problems = validate.validate_html(f'<script type="application/ld+json">{json.dumps(markup)}</script>')["problems"]
    assert [(p["rule"], p["message"]) for p in problems] == expected


def test_a_product_with_offers_only_is_eligible() -> None:
    markup = {"@context": "https://schema.org", "@type": "Product", "name": "Lamp",
              "offers": {"@type": "Offer", "price": "129.00", "priceCurrency": "EUR"}}  # fmt: skip
    assert validate.validate_html(f'<script type="application/ld+json">{json.dumps(markup)}</script>')["problems"] == []


@pytest.mark.parametrize(
    "page",
    [
        "<!-- only a comment -->",
        "<?xml version='1.0'?>",
        '<script type="application/ld+json">' + "[" * 50_000 + "]" * 50_000 + "</script>",
        '<script type="application/ld+json">{"@type": "Product", "name": "x", "aggregateRating": '
        '{"ratingValue": 4, "reviewCount": "' + "9" * 400 + '"}}</script>',
    ],
    ids=["comment-only", "no-element", "nested-too-deep", "huge-count"],
)
def test_odd_pages_are_reported_not_crashed_on(client: TestClient, page: str) -> None:
    report = validate.validate_html(page)
    assert all(p["severity"] in ("error", "warning") for p in report["problems"])
    answer = client.post("/seo/validate", content=page.encode(), headers=HTML)
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads(json.dumps(report))


# --- POST /seo/validate ------------------------------------------------------------------------------


def test_validate_accepts_html_and_json_html(client: TestClient) -> None:
    page = _page("rating-range-above")
    expected = validate.validate_html(page)
    as_html = client.post("/seo/validate", content=page.encode(), headers=HTML)
    assert as_html.status_code == 200 and as_html.headers["content-type"].startswith("application/json")
    body = as_html.json()
    assert body == json.loads(json.dumps(expected))
    assert [(p["path"], p["rule"], p["severity"]) for p in body["problems"]] == [
        ("aggregateRating.ratingValue", "rating-range", "error")
    ]
    assert [i["@type"] for i in body["items"]] == ["Product"]
    as_json = client.post("/seo/validate", json={"html": page})
    assert as_json.status_code == 200 and as_json.json() == body
    clean = client.post("/seo/validate", json={"html": _page("clean-microdata")})
    assert clean.json()["problems"] == [] and clean.json()["items"][0]["syntax"] == "microdata"


class _Pages(SimpleHTTPRequestHandler):
    """The fixture pages, plus /big.html (over the 5 MB limit), /redirect and /host.html (the Host asked for)."""

    def do_GET(self) -> None:
        made = {
            "/host.html": lambda: f"<p>Host: {self.headers.get('Host')}</p>".encode(),
            "/big.html": lambda: b"<html><body>" + b"x" * (validate.MAX_HTML + 10) + b"</body></html>",
        }
        if self.path in made:
            body = made[self.path]()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/clean-jsonld.html")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def page_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving tests/fixtures/seo."""
    with local_http_server(partial(_Pages, directory=str(FIXTURES))) as url:
        yield url


@pytest.fixture
def private_client(connected: store.StoreInfo) -> Iterator[TestClient]:
    """The app as `client` builds it, but allowed to fetch private addresses (REVIEWS_VALIDATE_PRIVATE_URLS)."""
    app = create_app(make_settings(REVIEWS_VALIDATE_PRIVATE_URLS="true"), connect=False)
    app.dependency_overrides[now_dep] = lambda: NOW
    with TestClient(app) as test_client:
        yield test_client


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status and problem["detail"]
    return problem


def test_a_url_on_a_private_address_is_refused_by_default(client: TestClient, page_server: str) -> None:
    url = f"{page_server}/rating-range-above.html"
    problem = _problem(client.post("/seo/validate", json={"url": url}), 422)
    assert "private or local" in problem["detail"]
    for local in ("http://localhost/", "http://[::1]/", "http://10.0.0.1/", "http://169.254.169.254/latest/"):
        _problem(client.post("/seo/validate", json={"url": local}), 422)


def test_a_url_on_a_private_address_is_fetched_when_allowed(private_client: TestClient, page_server: str) -> None:
    answer = private_client.post("/seo/validate", json={"url": f"{page_server}/rating-range-above.html"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads(json.dumps(validate.validate_html(_page("rating-range-above"))))
    assert [p["rule"] for p in answer.json()["problems"]] == ["rating-range"]
    clean = private_client.post("/seo/validate", json={"url": f"{page_server}/clean-rdfa.html"})
    assert clean.status_code == 200 and clean.json()["problems"] == []
    _problem(private_client.post("/seo/validate", json={"url": f"{page_server}/missing.html"}), 422)
    _problem(private_client.post("/seo/validate", json={"url": f"{page_server}/redirect"}), 422)  # never followed
    _problem(private_client.post("/seo/validate", json={"url": f"{page_server}/big.html"}), 413)


def test_the_checked_address_is_the_one_fetched(page_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: shop.test first answers an address that passes the public-address check (127.0.0.1
    stands in for one here), then 127.0.0.2 (standing in for an internal one; nothing listens there). The
    page comes from the checked address, asked for under its own name, and the name is resolved once."""
    port = int(page_server.rpartition(":")[2])
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "shop.test":
            return real(host, *args, **kwargs)
        answers.append("127.0.0.1" if not answers else "127.0.0.2")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[-1], port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(seo_api, "_is_public", lambda address: address == "127.0.0.1")
    html = fetch_page(f"http://shop.test:{port}/host.html")
    assert html == f"<p>Host: shop.test:{port}</p>"
    assert answers == ["127.0.0.1"]
    with pytest.raises(InvalidInput, match="private or local"):
        fetch_page(f"http://shop.test:{port}/host.html")  # the second answer, 127.0.0.2, is not public


@pytest.mark.parametrize(
    "payload",
    [
        {"url": "file:///etc/passwd"},
        {"url": "javascript:alert(1)"},
        {"url": "ftp://example.com/page.html"},
        {"url": "http://"},
        {"url": "http://[::1"},
        {"url": ""},
        {"html": ""},
        {},
        ["not", "an", "object"],
    ],
)
def test_urls_that_are_not_http_and_empty_payloads_are_refused(
    private_client: TestClient, client: TestClient, payload: Any
) -> None:
    for app_client in (client, private_client):
        _problem(app_client.post("/seo/validate", json=payload), 422)


def test_empty_malformed_and_oversized_bodies(client: TestClient) -> None:
    _problem(client.post("/seo/validate", content=b"", headers=HTML), 400)
    _problem(client.post("/seo/validate", content=b"  \n ", headers=HTML), 400)
    _problem(client.post("/seo/validate", content=b"", headers={"Content-Type": "application/json"}), 400)
    _problem(client.post("/seo/validate", content=b'{"html": ', headers={"Content-Type": "application/json"}), 400)
    _problem(client.post("/seo/validate", content=b"{'url': 'x'}", headers={"Content-Type": "application/json"}), 400)
    big = "<html><body>" + "x" * (validate.MAX_HTML + 1) + "</body></html>"
    _problem(client.post("/seo/validate", content=big.encode(), headers=HTML), 413)
    _problem(client.post("/seo/validate", json={"html": big}), 413)
    just_under = "<html><body>" + "x" * (validate.MAX_HTML - 100) + "</body></html>"
    assert client.post("/seo/validate", content=just_under.encode(), headers=HTML).status_code == 200


# --- reviews seo-validate ---------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*REVIEWS, "seo-validate", *args], capture_output=True, text=True, env=_env(), timeout=120)


def test_cli_exits_1_and_prints_the_problem_line() -> None:
    run = _cli(str(FIXTURES / "rating-range-above.html"))
    assert run.returncode == 1, run.stderr
    line = "error: aggregateRating.ratingValue: aggregateRating.ratingValue 6 is above bestRating 5 [rating-range]"
    assert line in run.stdout.splitlines()
    assert "found json-ld: Product" in run.stdout
    assert "1 items, 1 errors, 0 warnings" in run.stdout


def test_cli_exits_0_on_a_clean_page_and_on_warnings_only() -> None:
    for name in CLEAN:
        run = _cli(str(FIXTURES / f"{name}.html"))
        assert run.returncode == 0, (name, run.stdout, run.stderr)
        assert "0 errors, 0 warnings" in run.stdout
    warned = _cli(str(FIXTURES / "date-missing.html"))
    assert warned.returncode == 0
    assert "warning: review[0].datePublished: datePublished is recommended" in warned.stdout


def test_cli_json_report_url_and_missing_file(page_server: str, tmp_path: Path) -> None:
    run = _cli("--json", str(FIXTURES / "json-mixed.html"))
    assert run.returncode == 1
    assert json.loads(run.stdout) == json.loads(json.dumps(validate.validate_html(_page("json-mixed"))))
    remote = _cli(f"{page_server}/author-long.html")  # the user's own command may read a local server
    assert remote.returncode == 1
    assert "[author]" in remote.stdout and "130 characters" in remote.stdout
    missing = _cli(str(tmp_path / "nope.html"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
