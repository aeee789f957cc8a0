"""Buyers' photos over HTTP: the public JPEGs and their headers, what is never served, and moderation."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from reviews_service import documents, domain, ingest, photo_store, photos, repository, tokens
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, review
from tests.photo_helpers import photo_bytes, review_with_photos

BU = "test-shop"
PROBLEM = "application/problem+json"


def _public_review(client: TestClient, review_id: str) -> dict[str, Any]:
    items = client.get(f"/v1/business-units/{BU}/reviews").json()["items"]
    found: dict[str, Any] = next(item for item in items if item["id"] == review_id)
    return found


def _moderate(client: TestClient, headers: dict[str, str], photo_id: str, **body: object) -> Any:
    return client.patch(f"/v1/admin/photos/{photo_id}", headers=headers, json=body)


def test_a_photo_and_its_thumbnail_are_served_with_cache_headers(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    _, (photo_id, _) = review_with_photos(state, BU, "p1")
    full = client.get(f"/photos/{photo_id}.jpg")
    thumb = client.get(f"/photos/{photo_id}/thumb.jpg")
    for answer in (full, thumb):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["content-length"] == str(len(answer.content))
        assert answer.headers["cache-control"] == "public, max-age=3600"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["etag"].startswith('"')
        assert "content-encoding" not in answer.headers  # a JPEG is not gzipped again
    assert Image.open(io.BytesIO(full.content)).size == (800, 600)
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    assert full.headers["etag"] != thumb.headers["etag"]


def test_revalidation_answers_304_and_head_sends_no_body(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    _, (photo_id, _) = review_with_photos(state, BU, "p1")
    first = client.get(f"/photos/{photo_id}/thumb.jpg")
    again = client.get(f"/photos/{photo_id}/thumb.jpg", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=3600"
    head = client.head(f"/photos/{photo_id}.jpg")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(client.get(f"/photos/{photo_id}.jpg").content) > 1000


@pytest.mark.parametrize(
    "path",
    ["/photos/x.jpg", "/photos/..%2F..%2Fetc.jpg", "/photos/a%20b%20c%20d%20e.jpg", f"/photos/{'a' * 65}.jpg",
     "/photos/abc.jpg.jpg/thumb.jpg"],
)  # fmt: skip
def test_an_id_of_the_wrong_shape_is_a_404_without_asking_the_store(
    client: TestClient, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    def no_store() -> Any:
        raise AssertionError("the store was asked")

    monkeypatch.setattr(photo_store, "_photos", no_store)
    answer = client.get(path)
    assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM


def test_an_unknown_photo_is_a_404_problem(client: TestClient, shop: domain.BusinessUnit) -> None:
    for path in ("/photos/AAAAAAAAAAAAAAAA.jpg", "/photos/AAAAAAAAAAAAAAAA/thumb.jpg"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM
        assert "not shown" in answer.json()["detail"]


def test_a_photo_saved_for_a_review_that_never_arrived_is_not_served(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState
) -> None:
    photos.save_photo("orphanphoto00001", BU, f"{BU}:api:never", photos.process(photo_bytes()), NOW)
    assert client.get("/photos/orphanphoto00001.jpg").status_code == 404


def test_a_hidden_review_s_photos_are_not_served(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    review_id, (photo_id, _) = review_with_photos(state, BU, "p1")
    assert (
        client.patch(
            f"/v1/admin/reviews/{review_id}", headers=admin, json={"status": "hidden", "reason": "Spam"}
        ).status_code
        == 200
    )
    assert client.get(f"/photos/{photo_id}.jpg").status_code == 404
    assert client.get(f"/photos/{photo_id}/thumb.jpg").status_code == 404
    assert (
        client.patch(f"/v1/admin/reviews/{review_id}", headers=admin, json={"status": "published"}).status_code == 200
    )
    assert client.get(f"/photos/{photo_id}.jpg").status_code == 200


def test_hiding_a_photo_takes_it_out_of_its_review_and_off_the_web(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str], settings: Settings
) -> None:
    review_id, (first, second) = review_with_photos(state, BU, "p1")
    shown = _public_review(client, review_id)["photos"]  # read once: the list is cached until a change
    assert [p["url"] for p in shown] == [
        f"{settings.public_url}/photos/{first}.jpg",
        f"{settings.public_url}/photos/{second}.jpg",
    ]
    etag = client.get(f"/photos/{first}.jpg").headers["etag"]

    hidden = _moderate(client, admin, first, status="hidden", reason="Er staat een kenteken op")
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["status"] == "hidden" and hidden.json()["reason"] == "Er staat een kenteken op"
    assert hidden.json()["moderated_by"] and hidden.json()["moderated_at"]

    assert [p["thumbnail_url"] for p in _public_review(client, review_id)["photos"]] == [
        f"{settings.public_url}/photos/{second}/thumb.jpg"
    ]
    assert repository.get_review(review_id).photos == (second,)
    gone = client.get(f"/photos/{first}.jpg", headers={"If-None-Match": etag})  # a cache revalidating its copy
    assert gone.status_code == 404 and gone.headers["content-type"] == PROBLEM
    assert client.get(f"/photos/{second}.jpg").status_code == 200

    admin_view = client.get(f"/v1/admin/reviews/{review_id}", headers=admin).json()
    statuses = {p["id"]: (p["status"], p["reason"]) for p in admin_view["photos"]}
    assert statuses == {first: ("hidden", "Er staat een kenteken op"), second: ("published", None)}
    still_viewable = client.get(f"/v1/admin/photos/{first}.jpg", headers=admin)  # the moderator can still look
    assert still_viewable.status_code == 200 and still_viewable.headers["content-type"] == "image/jpeg"
    assert still_viewable.headers["cache-control"] == "no-store"
    assert client.get(f"/v1/admin/photos/{first}/thumb.jpg").status_code == 401

    back = _moderate(client, admin, first, status="published")
    assert back.status_code == 200 and back.json()["status"] == "published" and back.json()["reason"] is None
    assert set(repository.get_review(review_id).photos) == {first, second}
    assert client.get(f"/photos/{first}.jpg").status_code == 200
    assert len(_public_review(client, review_id)["photos"]) == 2


def test_publishing_again_keeps_at_most_three_photos(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    review_id, ids = review_with_photos(state, BU, "p1", count=3)
    assert _moderate(client, admin, ids[0], status="hidden").status_code == 200
    assert _moderate(client, admin, ids[0], status="hidden").status_code == 200  # twice: the same result
    # the buyer edits the review meanwhile and it carries three photos again (one new)
    _, newer = review_with_photos(state, BU, "p1", count=1, text="Nu met een foto")
    repository_photos = [*ids[1:], *newer]
    ingest.ingest(state, BU, [review("p1", photos=repository_photos, text="Nu met drie foto's")], now=NOW)
    full = _moderate(client, admin, ids[0], status="published")
    assert full.status_code == 409 and full.headers["content-type"] == PROBLEM
    assert "3 photos" in full.json()["detail"]
    assert photo_store.get(ids[0]).status == "hidden"
    assert repository.get_review(review_id).photos == tuple(repository_photos)
    assert _moderate(client, admin, ids[1], status="published").status_code == 200  # already shown: fine


def test_moderation_input_and_tokens(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    _, (photo_id, _) = review_with_photos(state, BU, "p1")
    assert client.patch(f"/v1/admin/photos/{photo_id}", json={"status": "hidden"}).status_code == 401
    for body in (
        {"status": "removed"},
        {"status": "hidden", "note": "x"},
        {},
        {"status": "hidden", "reason": "x" * 501},
    ):
        answer = _moderate(client, admin, photo_id, **body)
        assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM, body
    assert _moderate(client, admin, "AAAAAAAAAAAAAAAA", status="hidden").status_code == 404
    assert _moderate(client, admin, "no/such", status="hidden").status_code == 404
    assert photo_store.get(photo_id).status == "published"

    repository.save_business_unit(state, domain.BusinessUnit(slug="other-shop", name="Other", locales=("nl",)))
    other, _ = tokens.mint(state, "other's moderator", "other-shop", NOW)
    own, _ = tokens.mint(state, "our moderator", BU, NOW)
    forbidden = _moderate(client, {"Authorization": f"Bearer {other}"}, photo_id, status="hidden")
    assert forbidden.status_code == 403
    assert (
        client.get(f"/v1/admin/photos/{photo_id}.jpg", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    )
    assert (
        client.get(f"/v1/admin/business-units/{BU}/photos", headers={"Authorization": f"Bearer {other}"}).status_code
        == 403
    )
    assert photo_store.get(photo_id).status == "published"
    allowed = _moderate(client, {"Authorization": f"Bearer {own}"}, photo_id, status="hidden")
    assert allowed.status_code == 200 and allowed.json()["moderated_by"] == "our moderator"


def test_the_moderators_list_is_newest_first_by_status_and_paginated(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    made: list[str] = []
    for n in range(4):
        made += review_with_photos(state, BU, f"p{n}", count=2, now=NOW - timedelta(hours=4 - n))[1]
    for photo_id in made[1::2]:
        assert _moderate(client, admin, photo_id, status="hidden").status_code == 200

    def page(query: str) -> Any:
        answer = client.get(f"/v1/admin/business-units/{BU}/photos{query}", headers=admin)
        assert answer.status_code == 200, answer.text
        return answer.json()

    seen, cursor = [], None
    for _ in range(10):  # bounded: 8 photos, 3 a page
        data = page("?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        seen += [item["id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 8
    times = [page("?limit=100")["items"][i]["created_at"] for i in range(8)]
    assert times == sorted(times, reverse=True)
    assert {i["id"] for i in page("?status=hidden")["items"]} == set(made[1::2])
    assert {i["id"] for i in page("?status=published")["items"]} == set(made[0::2])
    item = page("?status=hidden&limit=1")["items"][0]
    assert item["url"].endswith(f"/v1/admin/photos/{item['id']}.jpg") and item["review_id"].startswith(BU)
    assert "data" not in item and "thumbnail" in item and item["thumbnail"]["width"] == 320
    assert set(made[-2:]) == {i["id"] for i in page("?limit=2")["items"]}  # the newest review's two photos
    assert client.get("/v1/admin/business-units/no-such-shop/photos", headers=admin).status_code == 404
    assert client.get(f"/v1/admin/business-units/{BU}/photos?status=gone", headers=admin).status_code == 422
    assert client.get(f"/v1/admin/business-units/{BU}/photos?cursor=nonsense", headers=admin).status_code == 422


def test_the_list_has_its_index(connected: object) -> None:
    documents.ensure_indexes()
    keys = [list(info["key"]) for info in documents.PhotoDoc._get_collection().index_information().values()]
    assert [("business_unit", 1), ("status", 1), ("created_at", -1), ("_id", -1)] in [
        [tuple(k) for k in key] for key in keys
    ]


def test_hidden_among_names_the_hidden_ones_only(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    _, (first, second) = review_with_photos(state, BU, "p1")
    assert photo_store.hidden_among([first, second, "AAAAAAAAAAAAAAAA", "../x"]) == set()
    assert _moderate(client, admin, first, status="hidden").status_code == 200
    assert photo_store.hidden_among([first, second, first]) == {first}
    assert photo_store.hidden_among([]) == set()


def test_a_record_ingested_again_does_not_bring_back_a_hidden_photo(
    client: TestClient, shop: domain.BusinessUnit, state: ServiceState, admin: dict[str, str]
) -> None:
    review_id, (first, second) = review_with_photos(state, BU, "p1")
    assert _moderate(client, admin, first, status="hidden").status_code == 200
    # the same record again (a script re-posting, the form submitted twice), and then an edit of its text
    for text in ("Mooie stoel, snel geleverd en goed verpakt.", "Na een maand nog steeds blij."):
        posted = client.post(
            f"/v1/admin/business-units/{BU}/reviews",
            headers=admin,
            json=[review("p1", photos=[first, second], text=text)],
        )
        assert posted.status_code == 200 and not posted.json()["rejected"], posted.text
        assert repository.get_review(review_id).photos == (second,)
        assert [p["url"].rsplit("/", 1)[1] for p in _public_review(client, review_id)["photos"]] == [f"{second}.jpg"]
    assert _moderate(client, admin, first, status="published").status_code == 200
    assert repository.get_review(review_id).photos == (second, first)
