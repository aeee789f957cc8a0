"""Invitations from one order over HTTP: creation and idempotency, every refusal (nothing stored), the suppression
list, the link's token, the unit's policy, the admin list (states, pages, scope) and the receipt's QR codes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import pytest
import segno
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from PIL import Image

from reviews_service import documents, domain, invitation_store, repository, tokens
from reviews_service.config import Settings
from reviews_service.invitation_links import TokenRefused, read_token
from reviews_service.state import ServiceState
from tests.conftest import NOW
from tests.test_query_shapes import record

BU = "test-shop"
URL = "/v1/admin/invitations"


def order(**fields: Any) -> dict[str, Any]:
    """A valid web order of test-shop with sensible defaults."""
    body: dict[str, Any] = {
        "business_unit": BU,
        "order_ref": "ORD-1001",
        "email": "Sanne.de.Vries@Example.NL",
        "name": "Sanne de Vries",
        "products": ["oak-chair"],
        "channel": "web",
    }
    body.update(fields)
    return body


def stored() -> list[dict[str, Any]]:
    """Every invitation document as stored."""
    return list(documents.InvitationDoc._get_collection().find({}))


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def secret_of(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def test_an_order_becomes_an_invitation_with_its_link_mail_and_qr_codes(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    answer = client.post(URL, json=order(products=["oak-chair", "walnut-table", "oak-chair"]), headers=admin)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["id"] == invitation_store.invitation_id(secret_of(settings), BU, "ORD-1001")
    assert answer.headers["location"] == f"{URL}/{body['id']}"
    assert body["created"] is True and body["mail"] == "scheduled" and body["state"] == "created"
    assert body["email"] == "sanne.de.vries@example.nl"  # stored lower-cased
    assert body["products"] == ["oak-chair", "walnut-table"]  # the duplicate collapsed
    assert body["locale"] == "nl"  # the unit's first locale
    assert parse_time(body["ordered_at"]) == NOW
    assert parse_time(body["expires_at"]) == NOW + timedelta(days=45)
    assert parse_time(body["send_at"]) == NOW + timedelta(days=3)
    assert body["link"].startswith(settings.public_url.rstrip("/") + "/r/")
    assert body["qr"] == {"svg": f"{URL}/{body['id']}/qr.svg", "png": f"{URL}/{body['id']}/qr.png"}
    assert answer.headers["cache-control"] == "no-store"
    [doc] = stored()
    assert doc["email"] == "sanne.de.vries@example.nl" and doc["order_ref"] == "ORD-1001"


def test_the_links_token_names_the_invitation_and_nothing_personal(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    body = client.post(URL, json=order(), headers=admin).json()
    token = body["link"].rsplit("/r/", 1)[1]
    assert read_token(secret_of(settings), token, now=NOW) == body["id"]
    _, payload = URLSafeSerializer("not the key").loads_unsafe(token)  # what anyone holding the link can read
    assert payload == [body["id"], int(parse_time(body["expires_at"]).timestamp())]
    for personal in ("ORD-1001", "sanne", "Sanne", "example.nl", "Vries"):
        assert personal not in token and personal not in str(payload) and personal not in body["id"]
    with pytest.raises(TokenRefused) as refused:
        read_token(secret_of(settings), token, now=NOW + timedelta(days=45, seconds=1))
    assert refused.value.reason == "expired"


def test_the_same_order_again_answers_its_invitation_unchanged(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    first = client.post(URL, json=order(), headers=admin).json()
    again = client.post(URL, json=order(name="Someone Else", email="other@example.nl", locale="fr"), headers=admin)
    assert again.status_code == 200
    body = again.json()
    assert body["created"] is False and body["id"] == first["id"]
    assert (body["name"], body["email"], body["locale"]) == ("Sanne de Vries", "sanne.de.vries@example.nl", "nl")
    assert body["link"] == first["link"] and body["mail"] == "scheduled"
    assert len(stored()) == 1
    other = client.post(URL, json=order(order_ref="ORD-1002"), headers=admin)
    assert other.status_code == 201 and other.json()["id"] != first["id"]
    assert len(stored()) == 2


def test_locales_are_narrowed_to_the_forms_languages(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState
) -> None:
    assert client.post(URL, json=order(order_ref="a", locale="nl-BE"), headers=admin).json()["locale"] == "nl"
    assert client.post(URL, json=order(order_ref="b", locale="DE"), headers=admin).json()["locale"] == "de"
    repository.save_business_unit(state, domain.BusinessUnit(slug="es-shop", name="Tienda", locales=("es", "nl")))
    spanish = client.post(URL, json=order(business_unit="es-shop", order_ref="c", products=[]), headers=admin)
    assert spanish.status_code == 201 and spanish.json()["locale"] == "en"  # es is not one the form speaks


def test_a_store_order_needs_no_address_and_send_false_mails_nothing(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    till = client.post(URL, json=order(order_ref="T-1", channel="store", email=None, name=None), headers=admin)
    assert till.status_code == 201
    assert (till.json()["mail"], till.json()["send_at"], till.json()["email"]) == ("none", None, None)
    quiet = client.post(URL, json=order(order_ref="W-2", send=False), headers=admin).json()
    assert (quiet["mail"], quiet["send_at"], quiet["email"]) == ("none", None, "sanne.de.vries@example.nl")


def test_a_suppressed_address_is_not_stored_at_all(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    invitation_store.suppress(secret_of(settings), "sanne.de.vries@example.nl", "erased", NOW)
    answer = client.post(URL, json=order(), headers=admin)
    assert answer.status_code == 201
    body = answer.json()
    assert (body["mail"], body["email"], body["send_at"]) == ("suppressed", None, None)
    [doc] = stored()
    assert doc["email"] is None and "example.nl" not in repr(doc).lower()  # the address is nowhere in it
    assert client.post(URL, json=order(), headers=admin).json()["mail"] == "suppressed"  # asked again: still not


REFUSALS = [
    ({"business_unit": "no-such-shop"}, 422, "No business unit 'no-such-shop'"),
    ({"order_ref": ""}, 422, "order_ref is required"),
    ({"order_ref": "   "}, 422, "order_ref is required"),
    ({"order_ref": "x" * 201}, 422, "the limit is 200"),
    ({"order_ref": "ORD\n1"}, 422, "printable characters"),
    ({"email": None}, 422, "email is required for a web order"),
    ({"email": "not-an-address"}, 422, "email is not an e-mail address"),
    ({"email": "a b@example.nl"}, 422, "email is not an e-mail address"),
    ({"name": "n" * 201}, 422, "name is 201 characters; the limit is 200"),
    ({"locale": "pt"}, 422, "locale 'pt' is not supported; use one of nl, en, de, fr"),
    ({"products": ["oak-chair", "teak-bench", "pine-bed"]}, 422, "not in test-shop's catalogue: teak-bench, pine-bed"),
    ({"products": [f"sku-{i}" for i in range(51)]}, 422, "at most 50 products"),
    ({"products": ["oak chair"]}, 422, "'oak chair' is not one"),
    ({"products": "oak-chair"}, 422, "products"),
    ({"channel": "phone"}, 422, "channel"),
    ({"ordered_at": "yesterday"}, 422, "is not an ISO 8601 time"),
    ({"ordered_at": (NOW + timedelta(minutes=5)).isoformat()}, 422, "is in the future"),
    ({"ordered_at": (NOW - timedelta(days=46)).isoformat()}, 422, "past test-shop's 45-day window"),
    ({"channel": "store", "email": None, "send": True}, 422, "send is true but the order has no email"),
    ({"colour": "red"}, 422, "colour"),
]


@pytest.mark.parametrize(("change", "status", "message"), REFUSALS, ids=[m for _, _, m in REFUSALS])
def test_each_bad_order_is_refused_clearly_and_nothing_is_stored(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], change: dict[str, Any], status: int,
    message: str,
) -> None:  # fmt: skip
    answer = client.post(URL, json=order(**change), headers=admin)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert message in answer.json()["detail"]
    assert stored() == []


def test_a_small_clock_skew_is_allowed_and_offsets_are_honoured(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    soon = (NOW + timedelta(seconds=30)).isoformat()
    ahead = client.post(URL, json=order(order_ref="a", ordered_at=soon), headers=admin)
    assert ahead.status_code == 201
    local = client.post(URL, json=order(order_ref="b", ordered_at="2026-11-20T09:30:00+01:00"), headers=admin).json()
    assert local["ordered_at"] == "2026-11-20T08:30:00.000Z"
    assert local["send_at"] == "2026-11-23T08:30:00.000Z"
    naive = client.post(URL, json=order(order_ref="c", ordered_at="2026-11-19T10:00:00"), headers=admin).json()
    assert naive["ordered_at"] == "2026-11-19T10:00:00.000Z"  # no offset: UTC


def test_the_units_policy_is_validated_kept_per_field_and_used(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    unit_url = f"/v1/admin/business-units/{BU}"
    assert client.get(unit_url, headers=admin).json()["invitations"] == {
        "delay_days": 3.0,
        "reminder_days": 7.0,
        "expiry_days": 45,
    }
    for bad in ({"delay_days": 61}, {"reminder_days": -1}, {"reminder_days": 61}, {"expiry_days": 0},
                {"expiry_days": 366}, {"expiry_days": 1.5}, {"tomorrow": 1}):  # fmt: skip
        refused = client.patch(unit_url, json={"invitations": bad}, headers=admin)
        assert refused.status_code == 422, (bad, refused.text)
        assert "invitations" in refused.text
    changed = client.patch(unit_url, json={"invitations": {"delay_days": 1, "expiry_days": 10}}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["invitations"] == {"delay_days": 1.0, "reminder_days": 7.0, "expiry_days": 10}
    again = client.patch(unit_url, json={"invitations": {"reminder_days": 0}}, headers=admin).json()
    assert again["invitations"] == {"delay_days": 1.0, "reminder_days": 0.0, "expiry_days": 10}  # the others kept
    body = client.post(URL, json=order(), headers=admin).json()
    assert parse_time(body["expires_at"]) == NOW + timedelta(days=10)
    assert parse_time(body["send_at"]) == NOW + timedelta(days=1)
    eleven_days = (NOW - timedelta(days=11)).isoformat()
    old = client.post(URL, json=order(order_ref="old", ordered_at=eleven_days), headers=admin)
    assert old.status_code == 422 and "10-day window" in old.json()["detail"]


@pytest.mark.parametrize(
    ("change", "delay", "expiry"),
    [({"delay_days": 45}, "45", "45"), ({"delay_days": 50}, "50", "45"), ({"expiry_days": 2}, "3", "2"),
     ({"delay_days": 10.5, "expiry_days": 10}, "10.5", "10")],
)  # fmt: skip
def test_a_policy_whose_first_mail_would_come_after_the_expiry_is_refused_naming_both_values(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], change: dict[str, Any], delay: str,
    expiry: str,
) -> None:  # fmt: skip
    """Checked on the policy as it would be stored: one field changed against the other's current value."""
    unit_url = f"/v1/admin/business-units/{BU}"
    refused = client.patch(unit_url, json={"invitations": change}, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    detail = refused.json()["detail"]
    assert f"delay_days ({delay}) must be less than expiry_days ({expiry})" in detail and "invitations" in detail
    assert client.get(unit_url, headers=admin).json()["invitations"] == {
        "delay_days": 3.0, "reminder_days": 7.0, "expiry_days": 45,
    }  # fmt: skip
    body = {"slug": "new-shop", "name": "New", "invitations": change}
    created = client.post("/v1/admin/business-units", json=body, headers=admin)
    assert created.status_code == 422 and "must be less than expiry_days" in created.json()["detail"]
    assert client.get("/v1/admin/business-units/new-shop", headers=admin).status_code == 404


def test_an_order_of_a_unit_whose_policy_can_never_mail_answers_none_with_the_reason(
    client: TestClient, admin: dict[str, str], state: ServiceState, connected: Any
) -> None:
    """A unit saved before such policies were refused: its invitations are not `scheduled` to be dropped later."""
    policy = domain.InvitationPolicy(delay_days=50, expiry_days=45)
    repository.save_business_unit(state, domain.BusinessUnit(slug="late", name="Late", invitations=policy))
    body = client.post(URL, json=order(business_unit="late", products=[]), headers=admin).json()
    assert (body["mail"], body["send_at"]) == ("none", None)
    assert (
        body["mail_reason"]
        == body["mail_error"]
        == (
            "not mailed: late's first mail is due 50 days after the order, but its link expires after 45: "
            "delay_days must be less than expiry_days"
        )
    )
    again = client.post(URL, json=order(business_unit="late", products=[]), headers=admin).json()
    assert (again["mail"], again["mail_reason"]) == ("none", body["mail_reason"])


def test_mail_reason_says_why_an_invitation_is_not_mailed(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    assert client.post(URL, json=order(), headers=admin).json()["mail_reason"] is None
    till = client.post(URL, json=order(order_ref="T-1", channel="store", email=None), headers=admin).json()
    assert till["mail_reason"] == "not mailed: the order has no e-mail address"
    quiet = client.post(URL, json=order(order_ref="W-2", send=False), headers=admin).json()
    assert quiet["mail_reason"] == "not mailed: send was false"
    invitation_store.suppress(secret_of(settings), "gone@example.nl", "erased", NOW)
    gone = client.post(URL, json=order(order_ref="W-3", email="gone@example.nl"), headers=admin).json()
    assert gone["mail_reason"] == "not mailed: the address opted out or was erased (it is not stored)"


def test_a_new_unit_takes_its_policy_on_post(client: TestClient, admin: dict[str, str], connected: Any) -> None:
    body = {"slug": "new-shop", "name": "New", "invitations": {"delay_days": 0.5}}
    created = client.post("/v1/admin/business-units", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["invitations"] == {"delay_days": 0.5, "reminder_days": 7.0, "expiry_days": 45}


# --- the list --------------------------------------------------------------------------------------------------


def _make(client: TestClient, admin: dict[str, str], count: int, bu: str = BU) -> list[str]:
    ids = []
    for i in range(count):
        at = (NOW - timedelta(hours=i)).isoformat()
        answer = client.post(URL, json=order(business_unit=bu, order_ref=f"{bu}-{i}", ordered_at=at), headers=admin)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids  # newest first


def test_the_list_is_newest_first_in_pages_that_never_skip_or_repeat(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    ids = _make(client, admin, 7)
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = client.get(f"{URL}?business_unit={BU}&limit=3{cursor}", headers=admin).json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ids
    first = client.get(f"{URL}?business_unit={BU}&limit=1", headers=admin).json()["items"][0]
    assert first["order_ref"] == f"{BU}-0" and first["email"] == "sanne.de.vries@example.nl"
    assert first["state"] == "created" and first["link"].startswith("http")
    bad = client.get(f"{URL}?cursor=nonsense", headers=admin)
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]
    assert client.get(f"{URL}?state=lost", headers=admin).status_code == 422
    assert client.get(f"{URL}?business_unit=no-such-shop", headers=admin).status_code == 404
    assert client.get(URL).status_code == 401


def test_the_state_filter_finds_exactly_the_invitations_in_that_state(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    ids = _make(client, admin, 8)
    collection = documents.InvitationDoc._get_collection()
    past = NOW - timedelta(hours=1)
    setups: list[dict[str, Any]] = [
        {},  # created
        {"sent_at": past},  # sent
        {"sent_at": past, "opened_at": past},  # opened
        {"expires_at": NOW - timedelta(seconds=1)},  # expired
        {"opened_at": past, "expires_at": NOW},  # expired (at the very moment), though opened
        {"reviewed_at": past, "expires_at": past},  # reviewed wins over expired
        {"reviewed_at": past, "opted_out_at": past},  # opted out wins over everything
        {"sent_at": past, "opted_out_at": past},
    ]
    for invitation_id, fields in zip(ids, setups, strict=True):
        if fields:
            collection.update_one({"_id": invitation_id}, {"$set": fields})
    expected = {
        "created": [ids[0]],
        "sent": [ids[1]],
        "opened": [ids[2]],
        "expired": [ids[3], ids[4]],
        "reviewed": [ids[5]],
        "opted_out": [ids[6], ids[7]],
    }
    every = client.get(f"{URL}?limit=100", headers=admin).json()["items"]
    assert {i["id"]: i["state"] for i in every} == {i: s for s, found in expected.items() for i in found}
    for state_name, found in expected.items():
        page = client.get(f"{URL}?business_unit={BU}&state={state_name}", headers=admin).json()
        assert [i["id"] for i in page["items"]] == found, state_name
        assert all(i["state"] == state_name for i in page["items"])
    one = client.get(f"{URL}?state=opted_out&limit=1", headers=admin).json()
    following = client.get(f"{URL}?state=opted_out&limit=1&cursor={one['next_cursor']}", headers=admin).json()
    assert [i["id"] for i in one["items"] + following["items"]] == expected["opted_out"]
    assert following["next_cursor"] is None


def test_a_scoped_token_sees_and_makes_only_its_units_invitations(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], state: ServiceState
) -> None:
    repository.save_business_unit(state, domain.BusinessUnit(slug="other-shop", name="Other", locales=("de",)))
    repository.save_products(state, [domain.Product(business_unit="other-shop", sku="oak-chair", name="Eiche")])
    mine = _make(client, admin, 2)
    theirs = _make(client, admin, 3, bu="other-shop")
    secret, _ = tokens.mint(state, "till", "other-shop", NOW)
    scoped = {"Authorization": f"Bearer {secret}"}
    listed = client.get(URL, headers=scoped).json()["items"]
    assert [i["id"] for i in listed] == theirs
    assert client.get(f"{URL}?business_unit={BU}", headers=scoped).status_code == 403
    assert client.get(f"{URL}/{mine[0]}", headers=scoped).status_code == 403
    assert client.get(f"{URL}/{mine[0]}/qr.png", headers=scoped).status_code == 403
    assert client.get(f"{URL}/{theirs[0]}", headers=scoped).status_code == 200
    refused = client.post(URL, json=order(order_ref="X-9"), headers=scoped)
    assert refused.status_code == 403 and len(stored()) == 5
    made = client.post(URL, json=order(business_unit="other-shop", order_ref="X-9"), headers=scoped)
    assert made.status_code == 201 and made.json()["locale"] == "de"
    assert len(client.get(URL, headers=admin).json()["items"]) == 6  # an unscoped token sees every unit


def test_one_invitation_reads_back_and_an_unknown_one_is_404(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    made = client.post(URL, json=order(), headers=admin).json()
    read = client.get(f"{URL}/{made['id']}", headers=admin).json()
    assert {k: v for k, v in read.items()} == {
        k: v for k, v in made.items() if k not in ("created", "mail", "mail_reason")
    }
    missing = client.get(f"{URL}/{'0' * 24}", headers=admin)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert client.get(f"{URL}/{'0' * 24}/qr.svg", headers=admin).status_code == 404


# --- QR codes --------------------------------------------------------------------------------------------------


def test_the_qr_codes_are_the_links_symbol_with_a_quiet_zone(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    made = client.post(URL, json=order(channel="store", email=None), headers=admin).json()
    expected = segno.make_qr(made["link"], error="m", boost_error=False)
    modules = len(expected.matrix)
    assert expected.error == "M"

    svg = client.get(f"{URL}/{made['id']}/qr.svg?scale=3", headers=admin)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.content)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (int(root.get("width", 0)), int(root.get("height", 0))) == ((modules + 8) * 3,) * 2

    png = client.get(f"{URL}/{made['id']}/qr.png?scale=5", headers=admin)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    image.load()
    assert image.format == "PNG" and image.size == ((modules + 8) * 5,) * 2
    gray = image.convert("L")
    # every module, read at its centre, is the link's symbol; the 4-module border all light
    read = [[gray.getpixel(((x + 4) * 5 + 2, (y + 4) * 5 + 2)) < 128 for x in range(modules)] for y in range(modules)]
    assert read == [[bool(v) for v in row] for row in expected.matrix]
    size = (modules + 8) * 5
    edge = [(x, y) for x in range(size) for y in range(size) if min(x, y, size - 1 - x, size - 1 - y) < 4 * 5]
    border = [gray.getpixel(xy) for xy in edge]
    assert min(border) > 128

    default = Image.open(io.BytesIO(client.get(f"{URL}/{made['id']}/qr.png", headers=admin).content))
    assert default.size == ((modules + 8) * 4,) * 2
    for scale in ("0", "21", "big"):
        assert client.get(f"{URL}/{made['id']}/qr.png?scale={scale}", headers=admin).status_code == 422
    assert client.get(f"{URL}/{made['id']}/qr.svg").status_code == 401


def test_the_list_walks_the_declared_index_with_null_tests_only(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit's list is an equality on business_unit sorted (created_at, _id) newest first, as InvitationDoc
    declares its index; a state adds only null tests and one expiry comparison (the same on MongoDB)."""
    _make(client, admin, 3)
    declared = [i["fields"] for i in documents.InvitationDoc._meta["indexes"]]
    assert ["business_unit", "-created_at", "-_id"] in declared and ["-created_at", "-_id"] in declared
    finds = record(monkeypatch, documents.InvitationDoc).finds
    page = client.get(f"{URL}?business_unit={BU}&state=sent&limit=2", headers=admin).json()
    assert page == {"items": [], "next_cursor": None}
    [find] = finds
    assert find.sort == [("created_at", -1), ("_id", -1)] and find.limit == 3
    assert find.filter.pop("business_unit") == BU
    assert find.filter.pop("expires_at") == {"$gt": NOW}
    assert find.filter == {"opted_out_at": None, "reviewed_at": None, "opened_at": None, "sent_at": {"$ne": None}}
