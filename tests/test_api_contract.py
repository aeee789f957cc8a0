"""The HTTP contract: one status and shape per kind of error, plain messages, HEAD, Allow, a true OpenAPI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain


@pytest.mark.parametrize("locale", ["€", "\r\nX-Injected: 1", 'n"l', "nl\x00"])
def test_export_etag_never_carries_the_raw_locale(client: TestClient, shop: domain.BusinessUnit, locale: str) -> None:
    """A hostile locale gets the shop's default rendering and a well-formed validator, not a 500 or a dropped line."""
    plain = client.get(f"/seo/{shop.slug}/export.ndjson")
    hostile = client.get(f"/seo/{shop.slug}/export.ndjson", params={"locale": locale})
    assert hostile.status_code == 200
    assert hostile.headers["etag"] == plain.headers["etag"]
    assert hostile.headers["etag"].isascii() and hostile.headers["etag"].count('"') == 2
    assert "x-injected" not in hostile.headers
    assert hostile.content == plain.content
    again = client.get(
        f"/seo/{shop.slug}/export.ndjson", params={"locale": locale}, headers={"If-None-Match": hostile.headers["etag"]}
    )
    assert again.status_code == 304
