"""A CSV of orders over HTTP: counts, line-numbered rejections, duplicates, BOM and semicolons, unknown columns,
files that cannot be orders (nothing stored), one catalogue read per batch, and 10,000 orders at once."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import documents, domain, invitation_store, repository, store, tokens
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, REVIEWS, _env, make_settings
from tests.test_query_shapes import record

BU = "test-shop"
URL = f"/v1/admin/business-units/{BU}/invitations/import"
CSV = {"Content-Type": "text/csv"}


def post(client: TestClient, admin: dict[str, str], text: str | bytes, url: str = URL) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return client.post(url, content=body, headers={**admin, **CSV})


def stored() -> dict[str, dict[str, Any]]:
    """Every stored invitation by order reference."""
    return {raw["order_ref"]: raw for raw in documents.InvitationDoc._get_collection().find({})}


def test_a_file_of_orders_becomes_invitations_with_line_numbered_rejections(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    text = (
        "order_ref,email,name,locale,products,channel,ordered_at,send\n"  # line 1
        "A-1,Anna@Example.nl,Anna,de,oak-chair|walnut-table,web,2026-11-19T10:00:00Z,\n"  # 2
        "A-2,not-an-address,Bob,,oak-chair,web,,\n"  # 3: bad e-mail
        'A-3,c@example.nl,"Carla\nvan Dijk",,oak-chair,web,,\n'  # 4-5: a name over two lines
        "A-4,d@example.nl,Dirk,,teak-bench|oak-chair,web,,\n"  # 6: unknown sku
        ",e@example.nl,Eva,,oak-chair,web,,\n"  # 7: no order_ref
        "A-1,anna@example.nl,Anna again,,oak-chair,web,,\n"  # 8: the same order as line 2
        "\n"  # 9: blank, skipped
        "A-5,,Till buyer,,walnut-table,store,,\n"  # 10: a store order without an address
        "A-6,f@example.nl,Fay,,,web,,false\n"  # 11: no products (the shop review only), not mailed
    )
    answer = post(client, admin, text)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["created"], body["existing"], body["rejected"]) == (4, 1, 3)
    assert body["rejections"] == [
        {"line": 3, "order_ref": "A-2", "reason": "email is not an e-mail address"},
        {
            "line": 6,
            "order_ref": "A-4",
            "reason": "products not in test-shop's catalogue: teak-bench "
            "(add them with POST /v1/admin/business-units/test-shop/products)",
        },
        {"line": 7, "order_ref": None, "reason": "order_ref is required (the shop's reference of the order)"},
    ]
    assert body["mail"] == {"scheduled": 2, "none": 2, "suppressed": 0}
    assert body["mail_reasons"] == {}  # no address, or send=false: nothing about the policy to say
    assert body["unknown_columns"] == []
    invitations = stored()
    assert sorted(invitations) == ["A-1", "A-3", "A-5", "A-6"]
    first = invitations["A-1"]
    assert (first["email"], first["name"], first["locale"]) == ("anna@example.nl", "Anna", "de")  # line 2 stands
    assert first["products"] == ["oak-chair", "walnut-table"]
    assert documents.as_utc(first["created_at"]).isoformat() == "2026-11-19T10:00:00+00:00"
    assert invitations["A-3"]["name"] == "Carla van Dijk"
    assert invitations["A-5"]["email"] is None and invitations["A-5"]["channel"] == "store"
    assert invitations["A-6"]["products"] == [] and "send_at" not in invitations["A-6"]

    again = post(client, admin, text).json()  # the same file again: nothing new, nothing counted twice
    assert (again["created"], again["existing"], again["rejected"]) == (0, 5, 3)
    assert len(stored()) == 4


def test_a_bom_semicolons_and_unknown_columns_import_as_they_are(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    text = "\ufeffOrder_Ref;E-mail;Products;Email;Filiaal\r\nB-1;x;oak-chair;b1@example.nl;Utrecht\r\n"
    text += 'B-2;x;"oak-chair|walnut-table";b2@example.nl;"Den Haag; centrum"\r\n'
    answer = post(client, admin, text.encode("utf-8"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["created"], body["rejected"], body["delimiter"]) == (2, 0, ";")
    assert body["unknown_columns"] == ["e-mail", "filiaal"]
    assert stored()["B-2"]["products"] == ["oak-chair", "walnut-table"]
    assert stored()["B-1"]["email"] == "b1@example.nl"


def test_only_order_ref_and_products_are_required(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    body = post(client, admin, "products,order_ref,channel\noak-chair,C-1,store\n").json()
    assert (body["created"], body["rejected"]) == (1, 0)
    assert stored()["C-1"]["locale"] == "nl"  # the unit's first locale


def test_rows_that_are_not_orders_are_rejected_by_line(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    text = (
        "order_ref,email,products\n"
        "D-1,d1@example.nl,oak-chair,surplus\n"  # 2: more fields than the header
        "D-2,d2@example.nl,oak-chair,,\n"  # 3: empty trailing fields are fine
        "D-3,d3@example.nl\n"  # 4: products left out: a shop review only
        f"D-4,{'x' * 70}@example.nl,oak-chair\n"  # 5
        "D-5,d5@example.nl,oak chair\n"  # 6
    )
    body = post(client, admin, text).json()
    assert [(r["line"], r["order_ref"]) for r in body["rejections"]] == [(2, None), (5, "D-4"), (6, "D-5")]
    assert body["rejections"][0]["reason"] == "4 fields, but the header has 3"
    assert (body["created"], body["rejected"]) == (2, 3)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "The request body is empty"),
        (b"\n\n", "The request body is empty"),
        (b"email,name\na@example.nl,A\n", "The header lacks order_ref, products"),
        (b"order_ref\nA-1\n", "The header lacks products"),
        (b"order_ref,products,order_ref\nA,b,C\n", "names order_ref more than once"),
        (b'{"order_ref": "A-1", "products": []}', "It looks like JSON: send one order as JSON to POST"),
        ("order_ref,products\nA-1,caf\u00e9\n".encode("latin-1"), "not UTF-8"),
        (b"order_ref,products\nA-1,\x00\n", "NUL"),
    ],
    ids=["empty", "blank", "no-columns", "no-products", "twice", "json", "latin-1", "nul"],
)
def test_a_file_that_cannot_be_orders_is_refused_and_nothing_is_stored(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], body: bytes, message: str
) -> None:
    answer = post(client, admin, body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert message in answer.json()["detail"]
    assert stored() == {}


def test_the_unit_must_exist_and_be_the_tokens(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState
) -> None:
    text = "order_ref,email,products\nE-1,e@example.nl,oak-chair\n"
    missing = post(client, admin, text, url="/v1/admin/business-units/no-such-shop/invitations/import")
    assert missing.status_code == 404
    repository.save_business_unit(state, domain.BusinessUnit(slug="other-shop", name="Other"))
    secret, _ = tokens.mint(state, "till", "other-shop", NOW)
    assert post(client, {"Authorization": f"Bearer {secret}"}, text).status_code == 403
    assert post(client, {}, text).status_code == 401
    assert stored() == {}


def test_suppressed_addresses_are_left_off_and_counted(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    invitation_store.suppress(settings.secret_key.get_secret_value(), "gone@example.nl", "opted_out", NOW)
    text = "order_ref,email,products\nF-1,Gone@Example.nl,oak-chair\nF-2,here@example.nl,oak-chair\n"
    body = post(client, admin, text).json()
    assert body["mail"] == {"scheduled": 1, "none": 0, "suppressed": 1}
    assert stored()["F-1"]["email"] is None and "send_at" not in stored()["F-1"]
    assert "gone" not in repr(stored()).lower()


def test_old_and_future_orders_are_rejected_with_the_reason(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    old = (NOW - timedelta(days=50)).strftime("%Y-%m-%d")
    future = (NOW + timedelta(days=1)).isoformat()
    text = f"order_ref,email,products,ordered_at\nG-1,g@example.nl,oak-chair,{old}\nG-2,g@example.nl,,{future}\n"
    body = post(client, admin, text).json()
    reasons = [r["reason"] for r in body["rejections"]]
    assert "past test-shop's 45-day window" in reasons[0] and "is in the future" in reasons[1]
    assert stored() == {}


def test_rejections_are_listed_up_to_a_cap_and_counted_exactly(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    lines = ["order_ref,email,products"] + [f"H-{i},bad-address,oak-chair" for i in range(250)]
    body = post(client, admin, "\n".join(lines) + "\n").json()
    assert body["rejected"] == 250 and len(body["rejections"]) == 100 == body["rejections_listed"]
    assert body["rejections"][-1]["line"] == 101


def test_a_batch_reads_the_catalogue_once_and_ten_thousand_orders_import(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    skus = [f"sku-{i:03d}" for i in range(200)]
    repository.save_products(state, [domain.Product(business_unit=BU, sku=s, name=s) for s in skus])
    state.reset()  # nothing cached: every product read reaches the store
    products = record(monkeypatch, documents.ProductDoc)
    lines = ["order_ref,email,name,products"]
    lines += [f"N-{i:05d},buyer{i}@example.nl,Buyer {i},{skus[i % 200]}|{skus[(i * 7) % 200]}" for i in range(10_000)]
    body = post(client, admin, "\n".join(lines) + "\n").json()
    assert (body["created"], body["existing"], body["rejected"]) == (10_000, 0, 0)
    assert len(products.finds) <= 10  # one read per batch of 1,000 at most (later batches are cached)
    assert documents.InvitationDoc._get_collection().count_documents({"business_unit": BU}) == 10_000
    page = client.get(f"/v1/admin/invitations?business_unit={BU}&limit=2", headers=admin).json()
    assert len(page["items"]) == 2 and page["next_cursor"]


def test_the_cli_imports_orders_with_a_progress_bar_and_refuses_the_in_memory_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = make_settings(REVIEWS_DATA_DIR=str(data), MONGODB_URL=None)
    store.connect(settings)
    try:
        state = ServiceState()
        repository.save_business_unit(state, domain.BusinessUnit(slug="till-shop", name="Till", locales=("fr",)))
        repository.save_products(state, [domain.Product(business_unit="till-shop", sku="oak-chair", name="Chêne")])
    finally:
        store.disconnect()
    orders = tmp_path / "orders.csv"
    orders.write_text("order_ref;products;channel\nK-1;oak-chair;store\nK-2;pine-bed;store\nK-3;;store\n")
    args = ["invitations", "import", str(orders), "--business-unit", "till-shop"]
    env = _env(REVIEWS_DATA_DIR=str(data), MONGODB_DB=settings.mongodb_db)
    result = subprocess.run([*REVIEWS, *args], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1, result.stderr  # one line rejected
    counts = json.loads(result.stdout)
    assert (counts["created"], counts["existing"], counts["rejected"]) == (2, 0, 1)
    assert "rejected line 3: products not in till-shop's catalogue: pine-bed" in result.stderr
    assert "inviting orders.csv" in result.stderr and "3/3" in result.stderr  # the progress bar, to the end
    again = subprocess.run([*REVIEWS, *args], capture_output=True, text=True, timeout=120, env=env)
    assert json.loads(again.stdout)["existing"] == 2
    refused = subprocess.run([*REVIEWS, *args], capture_output=True, text=True, timeout=120, env=_env())
    assert refused.returncode == 2 and "throw-away in-memory store" in refused.stderr


def test_a_late_import_is_mailed_now_and_one_whose_mail_would_come_after_the_expiry_says_why(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState
) -> None:
    """Orders of 20 days ago: their 3-day delay has passed, so the mail is due now (not in the past, before
    newer orders); a unit saved with delay_days >= expiry_days (refused since) gets `none`, with the reason."""
    old = (NOW - timedelta(days=20)).isoformat()
    body = post(client, admin, f"order_ref,email,products,ordered_at\nL-1,l@example.nl,oak-chair,{old}\n").json()
    assert body["mail"] == {"scheduled": 1, "none": 0, "suppressed": 0} and body["mail_reasons"] == {}
    assert documents.as_utc(stored()["L-1"]["send_at"]) == NOW
    policy = domain.InvitationPolicy(delay_days=30, expiry_days=21)
    repository.save_business_unit(state, domain.BusinessUnit(slug=BU, name="Test Shop", invitations=policy))
    text = f"order_ref,email,products,ordered_at\nL-2,m@example.nl,oak-chair,{old}\nL-3,n@example.nl,,\n"
    body = post(client, admin, text).json()
    reason = (
        "not mailed: test-shop's first mail is due 30 days after the order, but its link expires after 21: "
        "delay_days must be less than expiry_days"
    )
    assert body["created"] == 2 and body["mail"] == {"scheduled": 0, "none": 2, "suppressed": 0}
    assert body["mail_reasons"] == {reason: 2}
    for ref in ("L-2", "L-3"):
        assert "send_at" not in stored()[ref] and stored()[ref]["mail_error"] == reason
