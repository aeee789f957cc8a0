"""Review ingest and imports over HTTP: counts, rejections, hostile text, personal data, moderation.

After every test the incremental summaries must equal a rebuild from scratch (`differed: []`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reviews_service import domain
from reviews_service.state import ServiceState
from tests.conftest import NOW, review

INGEST = "/v1/admin/business-units/test-shop/reviews"
IMPORT = "/v1/admin/business-units/test-shop/imports"
PUBLIC = "/v1/business-units/test-shop"


# --- helpers ------------------------------------------------------------------------------------


def ingest(client: TestClient, admin: dict[str, str], *records: dict[str, Any]) -> dict[str, Any]:
    response = client.post(INGEST, json=list(records), headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def import_file(client: TestClient, admin: dict[str, str], fmt: str, body: str | bytes) -> dict[str, Any]:
    content = body.encode() if isinstance(body, str) else body
    response = client.post(IMPORT, params={"format": fmt}, content=content, headers=admin)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"] == fmt
    return report


def counts(report: dict[str, Any]) -> tuple[int, int, int, int]:
    return report["inserted"], report["updated"], report["unchanged"], report["rejected"]


def summary(client: TestClient, sku: str | None = None) -> dict[str, Any]:
    path = f"{PUBLIC}/summary" if sku is None else f"{PUBLIC}/products/{sku}/summary"
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def figures(client: TestClient, sku: str | None = None) -> tuple[int, dict[str, int], float | None]:
    s = summary(client, sku)
    return s["review_count"], s["histogram"], s["average"]


def hist(**stars: int) -> dict[str, int]:
    """hist(s5=2, s1=1) -> {"1": 1, "2": 0, "3": 0, "4": 0, "5": 2}"""
    return {str(r): stars.get(f"s{r}", 0) for r in domain.RATINGS}


def public_items(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{PUBLIC}/reviews", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def public_ids(client: TestClient, **params: Any) -> set[str]:
    return {item["id"] for item in public_items(client, **params)}


def rid(external_id: str, source: str = "api") -> str:
    return f"test-shop:{source}:{external_id}"


def stored(client: TestClient, admin: dict[str, str], review_id: str) -> dict[str, Any] | None:
    response = client.get(f"/v1/admin/reviews/{review_id}", headers=admin)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def moderate(client: TestClient, admin: dict[str, str], review_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.patch(f"/v1/admin/reviews/{review_id}", json=body, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(autouse=True)
def summaries_equal_a_rebuild(client: TestClient, admin: dict[str, str], shop: domain.BusinessUnit) -> Iterator[None]:
    """Whatever the test did, the incremental summaries must equal a recomputation."""
    yield
    response = client.post("/v1/admin/summaries/rebuild", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["differed"] == []


# --- counts -------------------------------------------------------------------------------------


def test_insert_then_identical_repost_is_all_unchanged(client: TestClient, admin: dict[str, str]) -> None:
    batch = [review("r1", 5), review("r2", 4), review("r3", 5, product="oak-chair")]
    assert counts(ingest(client, admin, *batch)) == (3, 0, 0, 0)
    before = figures(client), figures(client, "oak-chair")
    assert before[0] == (2, hist(s4=1, s5=1), 4.5)
    assert before[1] == (1, hist(s5=1), 5.0)

    again = ingest(client, admin, *batch)
    assert counts(again) == (0, 0, 3, 0)
    assert (figures(client), figures(client, "oak-chair")) == before


def test_editing_a_rating_moves_it_in_the_histogram(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("r1", 5), review("r2", 5), review("r3", 3))
    assert figures(client) == (3, hist(s3=1, s5=2), 4.33)

    edited = ingest(client, admin, review("r1", 1, text="Toch niet zo goed: de poot brak na een week."))
    assert counts(edited) == (0, 1, 0, 0)
    assert figures(client) == (3, hist(s1=1, s3=1, s5=1), 3.0)
    assert stored(client, admin, rid("r1"))["rating"] == 1
    assert summary(client)["display"] == {"value": 3.0, "scale": 5}


def test_moving_a_review_to_a_product_moves_it_between_summaries(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("r1", 4), review("r2", 2))
    assert counts(ingest(client, admin, review("r1", 4, product="oak-chair"))) == (0, 1, 0, 0)
    assert figures(client) == (1, hist(s2=1), 2.0)
    assert figures(client, "oak-chair") == (1, hist(s4=1), 4.0)


def test_same_review_twice_in_one_batch_identical(client: TestClient, admin: dict[str, str]) -> None:
    report = ingest(client, admin, review("dup", 4), review("dup", 4), review("other", 2))
    assert counts(report) == (2, 0, 1, 0)
    assert figures(client) == (2, hist(s2=1, s4=1), 3.0)


def test_same_review_twice_in_one_batch_different(client: TestClient, admin: dict[str, str]) -> None:
    report = ingest(client, admin, review("dup", 5), review("dup", 2, title="Second thoughts"))
    assert counts(report) == (1, 1, 0, 0)
    assert report["inserted"] + report["updated"] + report["unchanged"] + report["rejected"] == 2
    assert figures(client) == (1, hist(s2=1), 2.0)
    assert stored(client, admin, rid("dup"))["title"] == "Second thoughts"
    assert [i["id"] for i in public_items(client)] == [rid("dup")]


def test_same_stored_review_edited_twice_in_one_batch(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("dup", 5))
    report = ingest(client, admin, review("dup", 3), review("dup", 1))
    assert counts(report) == (0, 2, 0, 0)
    assert figures(client) == (1, hist(s1=1), 1.0)


def test_same_external_id_from_two_sources_are_two_reviews(client: TestClient, admin: dict[str, str]) -> None:
    report = ingest(client, admin, review("x1", 5, source="kiyoh"), review("x1", 3, source="trustpilot"))
    assert counts(report) == (2, 0, 0, 0)
    assert figures(client) == (2, hist(s3=1, s5=1), 4.0)


def test_single_object_and_wrapped_list_are_accepted(client: TestClient, admin: dict[str, str]) -> None:
    one = client.post(INGEST, json=review("solo", 5), headers=admin)
    assert counts(one.json()) == (1, 0, 0, 0)
    wrapped = client.post(INGEST, json={"reviews": [review("solo", 5), review("w2", 4)]}, headers=admin)
    assert counts(wrapped.json()) == (1, 0, 1, 0)


# --- rejections ---------------------------------------------------------------------------------


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


BAD_RECORDS = [
    pytest.param(review("bad", 0), "rating", id="rating-0"),
    pytest.param(review("bad", 6), "rating", id="rating-6"),
    pytest.param(review("bad", 4.5), "rating", id="rating-4.5"),
    pytest.param(review("bad", "five"), "rating", id="rating-five"),
    pytest.param(review("bad", True), "rating", id="rating-true"),
    pytest.param(_without(review("bad"), "rating"), "rating", id="rating-missing"),
    pytest.param(review("bad", created_at=None), "created_at", id="created-missing"),
    pytest.param(_without(review("bad"), "created_at"), "created_at", id="created-absent"),
    pytest.param(review("bad", created_at="last tuesday"), "created_at", id="created-garbage"),
    pytest.param(review("bad", created_at="2026-11-25T12:00:00Z"), "future", id="created-future"),
    pytest.param(review("bad", product="rocking-horse"), "rocking-horse", id="unknown-sku"),
    pytest.param(review("bad", text="x" * 1_048_576), "20,000", id="text-1mb"),
    pytest.param(review("bad", title="t" * 301), "300", id="title-too-long"),
    pytest.param(review("bad", email="not-an-address"), "email", id="bad-email"),
    pytest.param(review("bad", email="two@@example.nl"), "email", id="bad-email-2"),
]


@pytest.mark.parametrize(("record", "reason"), BAD_RECORDS)
def test_rejected_record_is_reported_and_not_stored(
    client: TestClient, admin: dict[str, str], record: dict[str, Any], reason: str
) -> None:
    report = ingest(client, admin, review("good-1", 5), record, review("good-2", 4, product="oak-chair"))
    assert counts(report) == (2, 0, 0, 1)
    [rejection] = report["rejections"]
    assert rejection["index"] == 1
    assert rejection["external_id"] == "bad"
    assert reason in rejection["reason"]
    assert len(rejection["reason"]) < 400  # readable: a sentence, not the record echoed back

    assert stored(client, admin, rid("bad")) is None
    assert stored(client, admin, rid("good-1")) is not None
    assert public_ids(client, product="*") == {rid("good-1"), rid("good-2")}
    assert figures(client) == (1, hist(s5=1), 5.0)
    assert figures(client, "oak-chair") == (1, hist(s4=1), 4.0)


@pytest.mark.parametrize("external_id", [None, "", "   "])
def test_missing_external_id_is_rejected(client: TestClient, admin: dict[str, str], external_id: Any) -> None:
    record = review("x") | {"external_id": external_id}
    report = ingest(client, admin, review("good", 5), record)
    assert counts(report) == (1, 0, 0, 1)
    assert report["rejections"][0]["index"] == 1
    assert "external_id" in report["rejections"][0]["reason"]
    assert public_ids(client) == {rid("good")}


def test_rejected_edit_leaves_the_stored_review_alone(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("r1", 5))
    report = ingest(client, admin, review("r1", 9, text="edited"))
    assert counts(report) == (0, 0, 0, 1)
    kept = stored(client, admin, rid("r1"))
    assert (kept["rating"], kept["text"]) == (5, "Mooie stoel, snel geleverd en goed verpakt.")
    assert figures(client) == (1, hist(s5=1), 5.0)


def test_rejections_keep_their_positions_in_a_mixed_batch(client: TestClient, admin: dict[str, str]) -> None:
    batch = [review(f"r{i}", 1 + i % 5) for i in range(10)]
    batch[2] = review("r2", 0)
    batch[7] = review("r7", created_at="soon")
    report = ingest(client, admin, *batch)
    assert counts(report) == (8, 0, 0, 2)
    assert [(r["index"], r["external_id"]) for r in report["rejections"]] == [(2, "r2"), (7, "r7")]
    assert summary(client)["review_count"] == 8


# --- hostile text -------------------------------------------------------------------------------

HOSTILE = [
    "the site showed <script> errors and I could not pay",
    "a<b and c>d",
    "<b>kapot</b>",
    "Mooi <script>alert(1)</script> stoel",
    "Mooi <img src=x onerror=alert(1)> stoel",
    'Mooi <a href="javascript:alert(1)">x</a> stoel',
    "<svg onload=alert(1)>Mooi</svg>",
    "Fijn &amp; snel &lt;3",
]


@pytest.mark.parametrize("written", HOSTILE)
def test_text_that_looks_like_markup_is_stored_and_served_as_written(
    client: TestClient, admin: dict[str, str], written: str
) -> None:
    """A review is plain text: the customer's words come back exactly, as JSON strings (escaped where shown)."""
    ingest(client, admin, review("h1", 4, title=written, text=written, author=f"Jan {written}"[:99]))
    [item] = public_items(client)
    assert (item["title"], item["text"], item["author"]) == (written, written, f"Jan {written}"[:99])
    admin_view = stored(client, admin, rid("h1"))
    assert admin_view is not None and (admin_view["title"], admin_view["text"]) == (written, written)
    assert client.get(f"{PUBLIC}/reviews").headers["content-type"].startswith("application/json")


def test_control_characters_are_removed(client: TestClient, admin: dict[str, str]) -> None:
    text = "Goed\x00 sto\x07el\x1b,\x7f prima\u0085!\nTweede regel\tmet tab."
    ingest(client, admin, review("c1", 4, title="Ti\x00tel\x08", text=text, author="Pi\x00et"))
    [item] = public_items(client)
    assert item["text"] == "Goed stoel, prima!\nTweede regel met tab."  # line breaks kept, runs of blanks one space
    assert item["title"] == "Titel"
    assert item["author"] == "Piet"


def test_bidi_overrides_are_removed(client: TestClient, admin: dict[str, str]) -> None:
    ingest(
        client,
        admin,
        review("b1", 1, title="Slecht \u202etcudorp\u202c", text="\u2066Echt\u2069 \u202dniet\u202c goed"),
    )
    [item] = public_items(client)
    assert item["title"] == "Slecht tcudorp"
    assert item["text"] == "Echt niet goed"
    for mark in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert mark not in json.dumps(item, ensure_ascii=False)


def test_text_is_nfc_normalised(client: TestClient, admin: dict[str, str]) -> None:
    ingest(
        client,
        admin,
        review("n1", 5, title="Cafe\u0301", text="Tre\u0300s bien, e\u0301le\u0301gant", author="Zoe\u0308"),
    )
    [item] = public_items(client)
    assert item["title"] == "Caf\u00e9"
    assert item["text"] == "Tr\u00e8s bien, \u00e9l\u00e9gant"
    assert item["author"] == "Zo\u00eb"


def test_emoji_and_cjk_are_kept(client: TestClient, admin: dict[str, str]) -> None:
    text = "很好的椅子 😀👍🏽 👨\u200d👩\u200d👧 ❤️ 素晴らしい 좋아요"
    ingest(client, admin, review("e1", 5, title="椅子 ⭐⭐⭐⭐⭐", text=text, author="山田 太郎"))
    [item] = public_items(client)
    assert item["text"] == text
    assert item["title"] == "椅子 ⭐⭐⭐⭐⭐"
    assert item["author"] == "山田 太郎"


def test_lone_surrogates_do_not_crash_ingest(client: TestClient, admin: dict[str, str]) -> None:
    raw = (
        b'[{"external_id": "s1", "rating": 4, "created_at": "2026-10-01T10:00:00Z",'
        b' "title": "Half \\ud800 emoji", "text": "Lone \\udc00 low", "author": "X\\ud83d"},'
        b' {"external_id": "s2\\ud800", "rating": 4, "created_at": "2026-10-01T10:00:00Z"},'
        b' {"external_id": "s3", "rating": 4, "created_at": "2026-10-01T10:00:00Z", "email": "a\\ud800@example.nl"},'
        b' {"external_id": "s4", "rating": 4, "created_at": "2026-10-01T10:00:00Z", "order_ref": "\\ud800"}]'
    )
    response = client.post(INGEST, content=raw, headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert counts(report) == (2, 0, 0, 2)
    assert [r["index"] for r in report["rejections"]] == [1, 2]
    assert "email" in report["rejections"][1]["reason"]
    first = stored(client, admin, rid("s1"))
    assert (first["title"], first["text"], first["author"]) == ("Half emoji", "Lone low", "X")
    assert stored(client, admin, rid("s4"))["order_ref"] is None
    assert public_ids(client) == {rid("s1"), rid("s4")}


# --- personal data ------------------------------------------------------------------------------

EMAIL = "Sanne.Visser@Example.NL"
ORDER = "ORD-2026-004217"


def _assert_no_personal_data(text: str) -> None:
    lowered = text.lower()
    assert "example.nl" not in lowered
    assert ORDER.lower() not in lowered
    assert '"email"' not in lowered
    assert '"order_ref"' not in lowered


def test_email_and_order_ref_never_leave_the_admin_side(client: TestClient, admin: dict[str, str]) -> None:
    ingest(
        client,
        admin,
        review("p1", 5, email=EMAIL, order_ref=ORDER, language="nl"),
        review("p2", 4, email=EMAIL, order_ref=ORDER, product="oak-chair", language="nl"),
        review("p3", 1, email=EMAIL, order_ref=ORDER, author=EMAIL, language="en", text="Broke on day one."),
        review("p4", 3, email=EMAIL, order_ref=ORDER, created_at="2026-09-01T10:00:00Z"),
    )
    public_paths = [
        f"{PUBLIC}/summary",
        f"{PUBLIC}/products/oak-chair/summary",
        f"{PUBLIC}/reviews",
        f"{PUBLIC}/reviews?product=*",
        f"{PUBLIC}/reviews?product=oak-chair",
        f"{PUBLIC}/reviews?rating=1",
        f"{PUBLIC}/reviews?rating=5&product=*",
        f"{PUBLIC}/reviews?language=nl&product=*",
        f"{PUBLIC}/reviews?language=en",
        f"{PUBLIC}/reviews?limit=1",
    ]
    seen = set()
    for path in public_paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        _assert_no_personal_data(response.text)
        seen |= {i["id"] for i in response.json().get("items", [])}
    assert seen == {rid("p1"), rid("p2"), rid("p3"), rid("p4")}
    # the second page too
    cursor = client.get(f"{PUBLIC}/reviews?limit=1").json()["next_cursor"]
    page_two = client.get(f"{PUBLIC}/reviews", params={"limit": 1, "cursor": cursor})
    assert page_two.json()["items"]
    _assert_no_personal_data(page_two.text)
    # an e-mail given as the author's name becomes a first name and an initial
    assert {i["author"] for i in public_items(client, rating=1)} == {"Sanne V."}

    private = stored(client, admin, rid("p2"))
    assert private["email"] == EMAIL.lower()
    assert private["order_ref"] == ORDER


def test_personal_data_without_the_admin_token_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("p1", 5, email=EMAIL, order_ref=ORDER))
    response = client.get(f"/v1/admin/reviews/{rid('p1')}")
    assert response.status_code == 401
    _assert_no_personal_data(response.text)


# --- moderation ---------------------------------------------------------------------------------


def test_hidden_review_leaves_list_and_summary_and_moderator_wins(client: TestClient, admin: dict[str, str]) -> None:
    original = review("m1", 5, title="Prachtig")
    ingest(client, admin, original, review("m2", 4))
    assert figures(client) == (2, hist(s4=1, s5=1), 4.5)

    hidden = moderate(client, admin, rid("m1"), {"status": "hidden", "reason": "Spam"})
    assert hidden["status"] == "hidden"
    assert public_ids(client) == {rid("m2")}
    assert public_ids(client, product="*") == {rid("m2")}
    assert figures(client) == (1, hist(s4=1), 4.0)

    # the source sends the same review again: still hidden
    assert counts(ingest(client, admin, original)) == (0, 0, 1, 0)
    assert stored(client, admin, rid("m1"))["status"] == "hidden"
    assert public_ids(client) == {rid("m2")}

    # the source sends an edit: the edit is stored, the review stays hidden
    edited = review("m1", 2, title="Toch teleurgesteld", text="Na een maand wiebelt hij.")
    assert counts(ingest(client, admin, edited)) == (0, 1, 0, 0)
    after = stored(client, admin, rid("m1"))
    assert (after["status"], after["rating"], after["title"]) == ("hidden", 2, "Toch teleurgesteld")
    assert public_ids(client) == {rid("m2")}
    assert figures(client) == (1, hist(s4=1), 4.0)
    assert counts(ingest(client, admin, edited)) == (0, 0, 1, 0)

    # publishing brings back the edited version
    assert moderate(client, admin, rid("m1"), {"status": "published"})["status"] == "published"
    assert public_ids(client) == {rid("m1"), rid("m2")}
    assert figures(client) == (2, hist(s2=1, s4=1), 3.0)


def test_hiding_and_republishing_the_only_review(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("solo", 5), review("chair", 3, product="oak-chair"))
    for review_id, sku in ((rid("solo"), None), (rid("chair"), "oak-chair")):
        moderate(client, admin, review_id, {"status": "hidden", "reason": "Spam"})
        assert figures(client, sku) == (0, hist(), None)
        assert summary(client, sku)["last_review_at"] is None
        moderate(client, admin, review_id, {"status": "published"})
        assert figures(client, sku)[0] == 1
        assert summary(client, sku)["last_review_at"] == "2026-10-01T10:00:00.000Z"


def test_hidden_product_review_leaves_the_product_summary(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("c1", 5, product="oak-chair"), review("c2", 1, product="oak-chair"))
    moderate(client, admin, rid("c2"), {"status": "hidden", "reason": "Spam"})
    assert figures(client, "oak-chair") == (1, hist(s5=1), 5.0)
    assert public_ids(client, product="oak-chair") == {rid("c1")}
    assert public_ids(client, product="oak-chair", rating=1) == set()


def test_reply_is_shown_and_can_be_removed(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("m1", 2))
    written = "Sorry Sanne, <b>we</b> sturen een nieuwe poot (ook als 1<2)."  # plain text, kept as written
    replied = moderate(client, admin, rid("m1"), {"reply": written})
    assert replied["reply"]["text"] == written
    [item] = public_items(client)
    assert item["reply"]["text"] == written
    assert item["reply"]["created_at"]
    assert figures(client) == (1, hist(s2=1), 2.0)

    # a re-ingest (identical or edited) from the source keeps the shop's reply
    ingest(client, admin, review("m1", 2))
    ingest(client, admin, review("m1", 3, text="Nieuwe poot gekregen, nu prima."))
    [item] = public_items(client)
    assert (item["rating"], item["reply"]["text"]) == (3, written)

    moderate(client, admin, rid("m1"), {"reply": ""})
    [item] = public_items(client)
    assert item["reply"] is None


def test_reply_and_status_together(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("m1", 1))
    moderated = moderate(
        client,
        admin,
        rid("m1"),
        {"status": "hidden", "reason": "Contains a phone number", "reply": "Contact opgenomen."},
    )
    assert (moderated["status"], moderated["reply"]["text"]) == ("hidden", "Contact opgenomen.")
    assert public_items(client) == []


def test_empty_moderation_and_bad_status_are_422(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("m1", 4))
    empty = client.patch(f"/v1/admin/reviews/{rid('m1')}", json={}, headers=admin)
    assert empty.status_code == 422
    assert empty.headers["content-type"].startswith("application/problem+json")
    for bad in ({"status": "deleted"}, {"status": "HIDDEN"}, {"status": None, "colour": "red"}):
        response = client.patch(f"/v1/admin/reviews/{rid('m1')}", json=bad, headers=admin)
        assert response.status_code == 422, (bad, response.text)
    assert stored(client, admin, rid("m1"))["status"] == "published"
    assert figures(client) == (1, hist(s4=1), 4.0)


def test_source_status_is_honoured_until_a_moderator_acts(client: TestClient, admin: dict[str, str]) -> None:
    ingest(client, admin, review("s1", 5, status="pending"), review("s2", 4))
    assert public_ids(client) == {rid("s2")}
    assert figures(client) == (1, hist(s4=1), 4.0)
    # the source publishes it
    assert counts(ingest(client, admin, review("s1", 5))) == (0, 1, 0, 0)
    assert public_ids(client) == {rid("s1"), rid("s2")}
    assert figures(client) == (2, hist(s4=1, s5=1), 4.5)


@pytest.mark.parametrize("status", ["hidden", "pending"])
def test_an_admin_ingest_does_not_take_a_published_review_off_the_public_side(
    client: TestClient, admin: dict[str, str], status: str
) -> None:
    """Only a moderator, with a reason, unpublishes: a record saying hidden/pending for a review already published
    is stored (its edits too) but the review stays published, and the report says so per record."""
    ingest(client, admin, review("p1", 1), review("p2", 5))
    report = ingest(client, admin, review("p2", 5), review("p1", 1, status=status))
    assert counts(report) == (0, 0, 2, 0)
    [note] = report["status_kept"]
    assert (note["index"], note["external_id"]) == (1, "p1")
    assert "stays published" in note["reason"] and f"PATCH /v1/admin/reviews/{rid('p1')}" in note["reason"]
    assert stored(client, admin, rid("p1"))["status"] == "published"
    assert public_ids(client) == {rid("p1"), rid("p2")}
    assert figures(client) == (2, hist(s1=1, s5=1), 3.0)
    # an edit with that status: the edit is stored, the status is not
    edited = ingest(client, admin, review("p1", 2, text="Toch iets beter.", status=status))
    assert counts(edited) == (0, 1, 0, 0) and len(edited["status_kept"]) == 1
    assert (stored(client, admin, rid("p1")) or {})["status"] == "published"
    assert figures(client) == (2, hist(s2=1, s5=1), 3.5)
    # a new review's status still applies, and a first published record has nothing to note
    fresh = ingest(client, admin, review("p3", 4, status=status))
    assert counts(fresh) == (1, 0, 0, 0) and fresh["status_kept"] == []
    assert rid("p3") not in public_ids(client)


def test_a_collector_still_takes_a_review_its_platform_hid_off_the_public_side(
    client: TestClient, admin: dict[str, str], state: ServiceState
) -> None:
    from reviews_service import ingest as ingest_module

    first = review("tp-9", 2, source="trustpilot")
    assert ingest_module.ingest(state, "test-shop", [first], now=NOW, collector=True).inserted == 1
    for status in ("hidden", "removed"):  # the platform filtered it, then deleted it
        report = ingest_module.ingest(state, "test-shop", [{**first, "status": status}], now=NOW, collector=True)
        assert report.updated == 1 and report.status_kept == []
        assert (stored(client, admin, rid("tp-9", "trustpilot")) or {})["status"] == status
    assert public_ids(client) == set()


# --- imports ------------------------------------------------------------------------------------

TRUSTPILOT_CSV = """\
id,filtered,pending,text,rating,title,likes,experienced,published,source
tp-001,False,False,"De stoel zit heerlijk, ook na uren werken.",5,Heerlijke stoel,2,2026-09-01T00:00:00.000Z,2026-09-02T08:15:00.000Z,https://example.invalid/tp-001
tp-002,False,False,"Levering duurde drie weken, maar kwaliteit is top.",4,Lang wachten,0,2026-09-03T00:00:00.000Z,2026-09-04T19:40:00.000Z,https://example.invalid/tp-002
tp-003,False,True,Nog in behandeling bij de moderator.,2,Wacht op controle,0,2026-09-05T00:00:00.000Z,2026-09-06T10:00:00.000Z,https://example.invalid/tp-003
tp-004,True,False,Deze tekst is door het platform gefilterd.,1,Gefilterd,0,2026-09-07T00:00:00.000Z,2026-09-08T11:30:00.000Z,https://example.invalid/tp-004
"""


def test_trustpilot_csv_import_counts_statuses_and_idempotence(client: TestClient, admin: dict[str, str]) -> None:
    first = import_file(client, admin, "trustpilot-csv", TRUSTPILOT_CSV)
    assert counts(first) == (4, 0, 0, 0)
    assert public_ids(client) == {rid("tp-001", "trustpilot"), rid("tp-002", "trustpilot")}
    assert figures(client) == (2, hist(s4=1, s5=1), 4.5)
    assert stored(client, admin, rid("tp-003", "trustpilot"))["status"] == "pending"
    assert stored(client, admin, rid("tp-004", "trustpilot"))["status"] == "hidden"
    newest = public_items(client)[0]
    assert (newest["title"], newest["created_at"]) == ("Lang wachten", "2026-09-04T19:40:00.000Z")

    second = import_file(client, admin, "trustpilot-csv", TRUSTPILOT_CSV)
    assert counts(second) == (0, 0, 4, 0)
    assert figures(client) == (2, hist(s4=1, s5=1), 4.5)

    # a later export where Trustpilot filtered tp-001: a file does not unpublish it (its line is noted); a moderator
    # does, with a reason, or the Trustpilot collector does
    filtered = TRUSTPILOT_CSV.replace("tp-001,False,False", "tp-001,True,False")
    third = import_file(client, admin, "trustpilot-csv", filtered)
    assert counts(third) == (0, 0, 4, 0)
    assert [(n["index"], n["external_id"]) for n in third["status_kept"]] == [(2, "tp-001")]
    assert rid("tp-001", "trustpilot") in public_ids(client)


def test_trustpilot_csv_bad_row_is_rejected_with_its_line_number(client: TestClient, admin: dict[str, str]) -> None:
    lines = TRUSTPILOT_CSV.splitlines()
    bad = (
        "tp-005,False,False,Zeven sterren bestaan niet.,7,Te veel,0,2026-09-09T00:00:00.000Z,2026-09-10T09:00:00.000Z,"
    )
    body = "\n".join([*lines[:2], bad, *lines[2:]]) + "\n"
    report = import_file(client, admin, "trustpilot-csv", body)
    assert counts(report) == (4, 0, 0, 1)
    [rejection] = report["rejections"]
    assert rejection["index"] == 3  # header is line 1, tp-001 line 2, the bad row line 3
    assert rejection["external_id"] == "tp-005"
    assert "rating" in rejection["reason"] and "7" in rejection["reason"]
    assert stored(client, admin, rid("tp-005", "trustpilot")) is None


def test_a_csv_rejection_names_the_line_its_row_starts_on(client: TestClient, admin: dict[str, str]) -> None:
    """Quoted review texts span lines: the rejected row is named by its first line, as an editor shows it."""
    body = (
        "external_id,rating,created_at,title,text,author\n"  # line 1
        'g-1,5,2026-08-01T09:00:00Z,Stevig,"Staat als een huis.\nEcht waar.\r\nEn snel geleverd.",Kees\n'  # 2-4
        "\n"  # 5: blank
        'g-2,9,2026-08-02T09:00:00Z,Te hoog,"Negen sterren?\nBestaat niet.",Anna\n'  # 6-7
        'g-3,1,2026-08-03T09:00:00Z,Kapot,"Poot brak af.",Piet,extra\n'  # 8: a field too many
    )
    report = import_file(client, admin, "generic-csv", body)
    assert counts(report) == (1, 0, 0, 2)
    assert [(r["index"], r["external_id"]) for r in report["rejections"]] == [(6, "g-2"), (8, None)]
    assert "line 8 has more fields than the header" in report["rejections"][1]["reason"]
    stored_text = stored(client, admin, rid("g-1", "csv"))["text"]
    assert stored_text.splitlines() == ["Staat als een huis.", "Echt waar.", "En snel geleverd."]


def test_trustpilot_csv_edit_on_reimport_is_an_update(client: TestClient, admin: dict[str, str]) -> None:
    import_file(client, admin, "trustpilot-csv", TRUSTPILOT_CSV)
    edited = TRUSTPILOT_CSV.replace('kwaliteit is top.",4,', 'kwaliteit valt tegen.",2,')
    assert counts(import_file(client, admin, "trustpilot-csv", edited)) == (0, 1, 3, 0)
    assert figures(client) == (2, hist(s2=1, s5=1), 3.5)


GENERIC_CSV = """\
external_id,rating,created_at,title,text,author,product,language,email,status
g-1,5,2026-08-01T09:00:00Z,Stevig,Staat als een huis.,Kees,oak-chair,nl,kees@example.org,
g-2,3,2026-08-02T09:00:00Z,Gaat wel,"Prima, maar de kleur wijkt af.",Anna,,nl,,
g-3,1,2026-08-03T09:00:00Z,Nooit geleverd,Wacht nog steeds.,Piet,,nl,,pending
g-4,2,2026-08-04T09:00:00Z,Verborgen,Door de winkel verborgen.,Joke,,nl,,hidden
"""


def test_generic_csv_import(client: TestClient, admin: dict[str, str]) -> None:
    assert counts(import_file(client, admin, "generic-csv", GENERIC_CSV)) == (4, 0, 0, 0)
    assert public_ids(client, product="*") == {rid("g-1", "csv"), rid("g-2", "csv")}
    assert figures(client) == (1, hist(s3=1), 3.0)
    assert figures(client, "oak-chair") == (1, hist(s5=1), 5.0)
    assert stored(client, admin, rid("g-1", "csv"))["email"] == "kees@example.org"
    assert "kees@example.org" not in client.get(f"{PUBLIC}/reviews?product=*").text
    assert counts(import_file(client, admin, "generic-csv", GENERIC_CSV)) == (0, 0, 4, 0)

    bad = GENERIC_CSV + "g-5,7,2026-08-05T09:00:00Z,Fout,Zeven sterren.,Bert,,nl,,\n"
    report = import_file(client, admin, "generic-csv", bad)
    assert counts(report) == (0, 0, 4, 1)
    assert (report["rejections"][0]["index"], report["rejections"][0]["external_id"]) == (6, "g-5")
    assert "rating" in report["rejections"][0]["reason"]


def test_a_generic_csv_column_ingest_does_not_know_is_reported(client: TestClient, admin: dict[str, str]) -> None:
    body = "external_id,rating,created_at,colour\ng-1,5,2026-08-01T09:00:00Z,oak\ng-2,4,2026-08-02T09:00:00Z,\n"
    report = import_file(client, admin, "generic-csv", body)
    assert counts(report) == (2, 0, 0, 0)
    assert report["ignored_fields"] == {"colour": 2}


def test_jsonl_import_with_one_bad_line(client: TestClient, admin: dict[str, str]) -> None:
    lines = [
        json.dumps(review("j-1", 4, text="Fijne bank, zit goed.")),
        '{"external_id": "j-2", "rating": 5, "created_at": "2026-10-02T10:00:00Z", "text": "afgebroken',
        json.dumps(review("j-3", 2, product="walnut-table", text="Tafelblad had een kras.")),
        "",
        json.dumps(review("j-4", 5, status="hidden")),
    ]
    body = "\n".join(lines) + "\n"
    report = import_file(client, admin, "jsonl", body)
    assert counts(report) == (3, 0, 0, 1)
    [rejection] = report["rejections"]
    assert rejection["index"] == 2
    assert "line 2" in rejection["reason"] and "JSON" in rejection["reason"]
    assert public_ids(client, product="*") == {rid("j-1", "api"), rid("j-3", "api")}
    assert figures(client) == (1, hist(s4=1), 4.0)
    assert figures(client, "walnut-table") == (1, hist(s2=1), 2.0)

    again = import_file(client, admin, "jsonl", body)
    assert counts(again) == (0, 0, 3, 1)


def test_jsonl_without_a_source_uses_the_import_source(client: TestClient, admin: dict[str, str]) -> None:
    record = _without(review("j-9", 4), "source")
    assert counts(import_file(client, admin, "jsonl", json.dumps(record) + "\n")) == (1, 0, 0, 0)
    assert public_items(client)[0]["source"] == "import"


def test_import_and_api_ingest_share_identity(client: TestClient, admin: dict[str, str]) -> None:
    """The same (source, external_id) through the API and a JSONL import is one review."""
    ingest(client, admin, review("same", 4))
    assert counts(import_file(client, admin, "jsonl", json.dumps(review("same", 4)) + "\n")) == (0, 0, 1, 0)
    assert summary(client)["review_count"] == 1


# --- what ingest accepts, refuses and reports ---------------------------------------------------------


@pytest.mark.parametrize("rating", [5, "5", 5.0, "5.0"])
def test_five_stars_however_the_number_is_written(client: TestClient, admin: dict[str, str], rating: Any) -> None:
    assert counts(ingest(client, admin, review("r1", rating=rating))) == (1, 0, 0, 0)
    assert figures(client) == (1, hist(s5=1), 5.0)
    assert counts(ingest(client, admin, review("r1", rating=5))) == (0, 0, 1, 0)  # the same review, unchanged


@pytest.mark.parametrize("status", [{}, 0, [], False, "", "bogus"])
def test_a_falsy_status_is_rejected_like_a_bogus_one(client: TestClient, admin: dict[str, str], status: Any) -> None:
    report = ingest(client, admin, review("r1", status=status))
    assert counts(report) == (0, 0, 0, 1)
    assert "status must be" in report["rejections"][0]["reason"]
    assert summary(client)["review_count"] == 0


def test_an_unsupported_language_is_rejected_with_the_supported_list(client: TestClient, admin: dict[str, str]) -> None:
    report = ingest(client, admin, review("r1", language="klingon"), review("r2", language="NL-be"))
    assert counts(report) == (1, 0, 0, 1)
    [rejection] = report["rejections"]
    assert rejection["index"] == 0 and "'klingon' is not supported" in rejection["reason"]
    assert "nl, en, de, fr" in rejection["reason"]
    assert stored(client, admin, rid("r1")) is None
    assert stored(client, admin, rid("r2"))["language"] == "nl"  # type: ignore[index]


def test_fields_ingest_does_not_know_are_reported_not_dropped_in_silence(
    client: TestClient, admin: dict[str, str]
) -> None:
    batch = [review("r1", colour="red"), review("r2", colour="blue", stars=4), review("r3"), review("r4", rating=0)]
    batch[3]["colour"] = "green"
    report = ingest(client, admin, *batch)
    assert counts(report) == (3, 0, 0, 1)
    assert report["ignored_fields"] == {"colour": 3, "stars": 1}
    assert "colour" not in stored(client, admin, rid("r1"))  # type: ignore[operator]
    assert ingest(client, admin, review("r5"))["ignored_fields"] == {}


def test_a_jsonl_import_reports_unknown_fields_too(client: TestClient, admin: dict[str, str]) -> None:
    body = "".join(json.dumps(review(f"j{i}", likes=i)) + "\n" for i in range(3))
    assert import_file(client, admin, "jsonl", body)["ignored_fields"] == {"likes": 3}


def test_a_flood_of_unknown_field_names_is_reported_within_bounds(client: TestClient, admin: dict[str, str]) -> None:
    record = review("r1") | {f"x{i}" + "y" * 300: i for i in range(500)}
    report = ingest(client, admin, record)
    assert counts(report) == (1, 0, 0, 0)
    assert len(report["ignored_fields"]) == domain.MAX_IGNORED
    assert all(len(name) <= 100 for name in report["ignored_fields"])


# --- other processes writing the same reviews (a shared MongoDB) --------------------------------------


@pytest.fixture
def shared_store(monkeypatch: pytest.MonkeyPatch, state: ServiceState) -> Iterator[None]:
    """Another process writing the same store: the per-unit ingest lock is made re-entrant so a test can
    play that process inside a write (caches start empty)."""
    from collections import defaultdict
    from threading import RLock

    state.reset()
    monkeypatch.setattr(state, "ingest_locks", defaultdict(RLock))
    try:
        yield
    finally:
        state.reset()


@pytest.mark.parametrize("meanwhile", ["edit", "hide"])
def test_an_edit_racing_another_process_counts_from_what_it_replaced(
    client: TestClient,
    admin: dict[str, str],
    shared_store: None,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: str,
    state: ServiceState,
) -> None:
    """Between this ingest reading review r1 (5 stars) and writing its edit (1 star), another process edits
    it to 3 stars or a moderator hides it. The edit must land on top of that, and the summary must count
    r1 once, as it finally is."""
    from reviews_service import ingest as ingest_module
    from reviews_service import repository

    ingest(client, admin, review("r1", rating=5), review("r2", rating=4))
    read = repository.reviews_by_id
    raced: list[str] = []

    def read_then_someone_else_writes(ids: Any) -> dict[str, domain.Review]:
        found = read(ids)
        if not raced:
            raced.append(meanwhile)
            # The other process, called directly: this thread is inside the app's request already.
            if meanwhile == "edit":
                assert ingest_module.ingest(state, "test-shop", [review("r1", rating=3)], now=NOW).updated == 1
            else:
                ingest_module.moderate(state, rid("r1"), status="hidden", reply=None, now=NOW, reason="Spam")
        return found

    monkeypatch.setattr(repository, "reviews_by_id", read_then_someone_else_writes)
    assert counts(ingest(client, admin, review("r1", rating=1))) == (0, 1, 0, 0)
    assert raced == [meanwhile]
    final = stored(client, admin, rid("r1"))
    assert final is not None and final["rating"] == 1
    if meanwhile == "edit":
        assert final["status"] == "published"
        assert figures(client) == (2, hist(s1=1, s4=1), 2.5)
    else:
        assert final["status"] == "hidden", "the moderator's decision survives the edit"
        assert figures(client) == (1, hist(s4=1), 4.0)
    rebuilt = client.post("/v1/admin/summaries/rebuild", headers=admin)
    assert rebuilt.status_code == 200 and rebuilt.json()["differed"] == [], "incremental = rebuilt from scratch"


def test_a_review_that_keeps_changing_under_an_ingest_is_rejected_not_lost(
    client: TestClient, admin: dict[str, str], shared_store: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer changes r1 every time this ingest tries to store it: after the last attempt r1 comes
    back as a rejection saying to send it again; r2 of the same batch is stored and counted."""
    from reviews_service import repository

    ingest(client, admin, review("r1", rating=5))
    write = repository.write_reviews
    attempts: list[int] = []

    def always_beaten_to_r1(new: Any, edited: Any) -> set[str]:
        attempts.append(1)
        r1 = rid("r1")
        return write([r for r in new if r.id != r1], [(o, r) for o, r in edited if r.id != r1]) | {r1}

    monkeypatch.setattr(repository, "write_reviews", always_beaten_to_r1)
    report = ingest(client, admin, review("r1", rating=1), review("r2", rating=4))
    assert counts(report) == (1, 0, 0, 1)
    [rejection] = report["rejections"]
    assert (rejection["index"], rejection["external_id"]) == (0, "r1")
    assert "changed by another writer 5 times" in rejection["reason"] and "send it again" in rejection["reason"]
    assert len(attempts) == 5
    assert stored(client, admin, rid("r1"))["rating"] == 5
    assert figures(client) == (2, hist(s4=1, s5=1), 4.5)
