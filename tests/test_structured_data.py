"""Reviews already on web pages: JSON-LD, microdata and RDFa reviews read from a golden page and from a real
local HTTP server, stored once however often they are read; hostile pages refused by the validator's caps."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from collectors.base import CollectReport, collect_now
from collectors.registry import REGISTRY
from collectors.structured_data import parse
from reviews_service import domain, repository, source_store
from reviews_service.config import Settings
from reviews_service.errors import SourceConfigError, SourceError
from reviews_service.state import ServiceState
from tests.conftest import local_http_server, make_settings

FIXTURES = Path(__file__).parent / "fixtures" / "structured_data"
PAGE = (FIXTURES / "shop-page.html").read_bytes()


def test_the_parser_reads_every_syntax_of_the_golden_page() -> None:
    """Two JSON-LD reviews of a catalogued Product, one microdata review on 10, one RDFa review on 0-100."""
    found = parse(PAGE.decode(), "https://old-shop.example/p/oak-chair#reviews", skus=frozenset({"oak-chair"}))
    assert found == json.loads((FIXTURES / "shop-page.expected.json").read_text())


def test_ids_without_an_id_on_the_page_are_stable_and_distinct() -> None:
    """The same page read twice gives the same ids; another page gives others."""
    first = [r["external_id"] for r in parse(PAGE.decode(), "https://old-shop.example/a")["reviews"]]
    again = [r["external_id"] for r in parse(PAGE.decode(), "https://old-shop.example/a#x")["reviews"]]
    other = [r["external_id"] for r in parse(PAGE.decode(), "https://old-shop.example/b")["reviews"]]
    assert first == again and len(set(first)) == 4
    assert first[0] == other[0] and not set(first[1:]) & set(other[1:])  # only the page's own @id is shared


def _server(body: bytes, hits: list[str]) -> Any:
    class Page(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return local_http_server(Page)


def _collect(state: ServiceState, settings: Settings, unit: str, config: dict[str, Any]) -> CollectReport:
    repository.update_business_unit(state, unit, {"sources": {"structured-data": config}})
    return collect_now(state, settings, REGISTRY, unit, "structured-data")


def test_a_page_served_over_http_is_collected_once(shop: domain.BusinessUnit, state: ServiceState) -> None:
    """Four reviews in, each as written; a rerun stores nothing new; the page's AggregateRating is kept aside."""
    settings = make_settings(REVIEWS_VALIDATE_PRIVATE_URLS="true")
    hits: list[str] = []
    with _server(PAGE, hits) as base:
        report = _collect(state, settings, shop.slug, {"urls": [f"{base}/p/oak-chair"]})
        assert (report.inserted, report.rejected, report.pages) == (4, [], 1)
        again = _collect(state, settings, shop.slug, {"urls": [f"{base}/p/oak-chair"]})
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    stored = {r.author: r for r in repository.iter_reviews(shop.slug)}
    assert set(stored) == {"Ilse", "Gert-Jan", "Noor", "Yusuf"}
    assert (stored["Ilse"].product, stored["Ilse"].rating, stored["Ilse"].text) == (
        "oak-chair", 5, "Stevige stoel, mooi afgewerkt.\nTweede zending was ook goed.",
    )  # fmt: skip
    assert stored["Gert-Jan"].text == "Poot wiebelde a<b and c>d, maar na aandraaien prima."
    assert (stored["Noor"].rating, stored["Noor"].source_rating, stored["Noor"].source_scale) == (4, 7.0, 10)
    assert repository.get_summary(state, shop.slug, "oak-chair").count == 2
    assert repository.get_summary(state, shop.slug).count == 2
    (page,) = source_store.get_source_state(shop.slug, "structured-data").checkpoint["pages"]
    assert (page["reviews"], page["aggregate"]["ratingValue"]) == (4, "4.5")
    assert len(hits) == 2


def test_private_addresses_are_refused_as_the_validator_refuses_them(
    shop: domain.BusinessUnit, state: ServiceState, settings: Settings
) -> None:
    """127.0.0.1 is not fetched without REVIEWS_VALIDATE_PRIVATE_URLS."""
    hits: list[str] = []
    with _server(PAGE, hits) as base, pytest.raises(SourceError, match="private or local address"):
        _collect(state, settings, shop.slug, {"urls": [f"{base}/p"]})
    assert hits == [] and not list(repository.iter_reviews(shop.slug))


def _deep_page(depth: int) -> bytes:
    opening = '<div itemscope itemtype="https://schema.org/Review" itemprop="review">' * depth
    return f"<html><body>{opening}<span itemprop='name'>x</span>{'</div>' * depth}</body></html>".encode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<p>" + b"a" * (6 * 1024 * 1024) + b"</p>", "over 5,242,880 bytes"),
        (_deep_page(40), "nested 25 deep; the validator reads up to 24"),
    ],
    ids=["huge", "deep"],
)
def test_a_hostile_page_is_refused_with_the_validators_caps(
    shop: domain.BusinessUnit, state: ServiceState, body: bytes, words: str
) -> None:
    """Over the byte cap or nested past seo.budget's depth: a SourceError naming the cap, nothing stored."""
    settings = make_settings(REVIEWS_VALIDATE_PRIVATE_URLS="true")
    with _server(body, []) as base, pytest.raises(SourceError, match=words):
        _collect(state, settings, shop.slug, {"urls": [f"{base}/hostile"]})
    assert not list(repository.iter_reviews(shop.slug))
    assert source_store.get_source_state(shop.slug, "structured-data").last_outcome == "failed"


def test_saved_pages_are_read_from_the_data_directory_only(
    shop: domain.BusinessUnit, state: ServiceState, tmp_path: Path
) -> None:
    """A saved page under REVIEWS_DATA_DIR/pages/ is read like a fetched one; a path outside is refused."""
    (tmp_path / "pages" / "old").mkdir(parents=True)
    (tmp_path / "pages" / "old" / "oak.html").write_bytes(PAGE)
    on_disk = make_settings(REVIEWS_DATA_DIR=str(tmp_path))  # the store stays the test's: it is connected already
    assert _collect(state, on_disk, shop.slug, {"files": ["old/oak.html"]}).inserted == 4
    with pytest.raises(SourceConfigError, match="must lie in"):
        _collect(state, on_disk, shop.slug, {"files": ["../../etc/passwd"]})
    with pytest.raises(SourceConfigError, match="needs `urls` or `files`"):
        _collect(state, on_disk, shop.slug, {})
