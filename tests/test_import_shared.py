"""The real Trustpilot exports import completely and exactly (skipped where ../shared is absent)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from tests.conftest import shared_data_or_skip

# The star counts published with the data set (its README).
EXPECTED = {
    "akc.csv": [56, 15, 44, 73, 650],
    "pumpkin.csv": [61, 17, 26, 62, 832],
    "lemonade.csv": [208, 17, 13, 31, 1033],
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_export_imports_every_review_once(
    name: str, client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit
) -> None:
    body = (shared_data_or_skip() / name).read_bytes()
    url = "/v1/admin/business-units/test-shop/imports?format=trustpilot-csv"
    first = client.post(url, content=body, headers=admin).json()
    assert (first["inserted"], first["rejected"]) == (sum(EXPECTED[name]), 0), first["rejections"][:3]
    again = client.post(url, content=body, headers=admin).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, sum(EXPECTED[name]))
    summary = client.get("/v1/business-units/test-shop/summary").json()
    assert [summary["histogram"][str(r)] for r in range(1, 6)] == EXPECTED[name]
    assert client.post("/v1/admin/summaries/rebuild", headers=admin).json()["differed"] == []
