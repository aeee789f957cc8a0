"""POST /v1/admin/reviewers/erasure: a reviewer's name, texts, photos, order references and address leave every
public answer, every cache (this app's and another instance's) and the admin side; the ratings stay in the
summaries; a second call changes nothing; no later import, collection, form or invitation brings any of it back."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collectors.forms import review_id
from reviews_service import documents as docs
from reviews_service import domain, ingest, invitation_mailer, invitation_store, privacy, repository
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.config import Settings
from reviews_service.state import ServiceState
from tests.conftest import NOW, make_settings, review
from tests.form_helpers import EMAIL, ORDER, invite, photo
from tests.mail_server import MailServer

ERASE = "/v1/admin/reviewers/erasure"
FORM = {
    "rating": "4",
    "title": "Snel en vriendelijk",
    "text": "Binnen twee dagen geleverd, vriendelijke bezorger Kees.",
    "rating.oak-chair": "5",
    "title.oak-chair": "Mooie eiken stoel",
    "text.oak-chair": "Zit prettig, de kleur klopt met de foto.",
    "website": "",
}
# What Anna wrote, signed and sent: none of it may be seen anywhere after the erasure.
HERS = (
    "Anna B.", "Bakker", "Snel en vriendelijk", "Kees", "Mooie eiken stoel", "Zit prettig", "Eén ster", "Kapot geleverd"
)  # fmt: skip
PUBLIC = (
    "/v1/business-units/test-shop/reviews",
    "/v1/business-units/test-shop/reviews?product=oak-chair",
    "/widgets/test-shop/reviews.html",
    "/widgets/test-shop/data.json?skus=oak-chair&reviews=10",
    "/seo/test-shop/products/oak-chair.jsonld",
    "/seo/test-shop/organization.jsonld",
)
SUMMARIES = (
    "/v1/business-units/test-shop/summary",
    "/v1/business-units/test-shop/products/oak-chair/summary",
    "/v1/business-units/test-shop/products/walnut-table/summary",
)


def _figures(client: TestClient) -> list[tuple[int, float | None, dict[str, int]]]:
    answers = [client.get(path).json() for path in SUMMARIES]
    return [(a["review_count"], a["average"], a["histogram"]) for a in answers]


def _annas_reviews(client: TestClient, admin: dict[str, str], settings: Settings) -> tuple[domain.Invitation, str]:
    """Anna's form review (shop + oak-chair, a photo), two imported reviews with her address, and Piet's."""
    invitation, token = invite(settings)
    files = [("photo.oak-chair", ("chair.jpg", photo(), "image/jpeg"))]
    assert client.post(f"/r/{token}", data=FORM, files=files, follow_redirects=False).status_code == 303
    records = [
        review("imp-1", 1, title="Eén ster", text="Kapot geleverd, order ORD-77.", author="Anna Bakker",
               email="Anna.Bakker@Example.com", order_ref="ORD-77", product="walnut-table",
               created_at="2026-11-19T10:00:00Z"),
        review("imp-2", 3, text="Kapot geleverd, maar netjes vervangen.", author="anna.bakker@example.com",
               email=EMAIL),
        review("piet", 5, title="Prima", text="Piet is tevreden.", author="Piet J.", email="piet@example.com"),
    ]  # fmt: skip
    answer = client.post("/v1/admin/business-units/test-shop/reviews", json=records, headers=admin)
    assert answer.json()["inserted"] == 3, answer.text
    return invitation, token


def test_an_erasure_takes_the_reviewer_out_of_every_answer_and_keeps_the_ratings(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    invitation, token = _annas_reviews(client, admin, settings)
    one_star = "test-shop:one-star:test-shop:api:imp-1"
    noted = {"status": "resolved", "note": "Belde Anna Bakker over 'Kapot geleverd'"}
    assert client.patch(f"/v1/admin/flags/{one_star}", json=noted, headers=admin).status_code == 200
    form_review = repository.get_review(review_id(invitation, "oak-chair"))
    (photo_id,) = form_review.photos
    pages = {path: client.get(path).text for path in PUBLIC}  # every cache warmed with her words in it
    assert any("Mooie eiken stoel" in text for text in pages.values())
    assert "Kees" in client.get("/widgets/test-shop/reviews.html").text
    digest = "/v1/admin/business-units/test-shop/digests/2026-11-19"
    assert "Kapot geleverd" in client.get(digest, headers={**admin, "Accept": "text/html"}).text
    before = _figures(client)

    answer = client.post(ERASE, json={"email": "  ANNA.bakker@example.COM "}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == {"erased": {"reviews": 4, "invitations": 1, "photos": 1, "flags": 1}, "suppressed": True}

    assert _figures(client) == before  # her four ratings are still counted, anonymously
    for path in PUBLIC:
        text = client.get(path).text
        for words in HERS:
            assert words not in text, (path, words)
    assert "Piet is tevreden." in client.get("/widgets/test-shop/reviews.html").text  # only hers went
    assert "Kapot geleverd" not in client.get(digest, headers={**admin, "Accept": "text/html"}).text
    assert client.get(f"/photos/{photo_id}.jpg").status_code == 404
    assert client.get(f"/v1/admin/photos/{photo_id}.jpg", headers=admin).status_code == 404
    for rid in ("test-shop:api:imp-1", "test-shop:api:imp-2", form_review.id, review_id(invitation, None)):
        shown = client.get(f"/v1/admin/reviews/{rid}", headers=admin).json()
        assert (shown["author"], shown["title"], shown["text"], shown["email"], shown["order_ref"]) == (
            "", "", "", None, None
        ), rid  # fmt: skip
        assert shown["photos"] == [] and shown["reply"] is None
    stored = repository.get_review("test-shop:api:imp-1")
    assert (stored.rating, stored.created_at, stored.product, stored.status) == (
        1,
        NOW.replace(day=19, hour=10),
        "walnut-table",
        "published",
    )
    flag = client.get("/v1/admin/business-units/test-shop/flags?status=resolved", headers=admin).json()["items"][0]
    assert flag["id"] == one_star and flag["note"] is None and flag["details"]["rating"] == 1
    kept = invitation_store.get_invitation(invitation.id)
    assert (kept.email, kept.name, kept.order_ref, kept.send_at, kept.reminder_at) == (None, "", "", None, None)
    assert client.get(f"/r/{token}").status_code == 410  # her form is closed
    every = {k: v for raw in docs.InvitationDoc._get_collection().find() for k, v in raw.items()}
    assert EMAIL not in str(every) and ORDER not in str(every) and "Bakker" not in str(every)
    suppressions = list(docs.SuppressionDoc._get_collection().find())
    assert [s["reason"] for s in suppressions] == ["erased"] and "anna" not in str(suppressions).lower()

    again = client.post(ERASE, json={"email": EMAIL}, headers=admin)
    assert again.status_code == 200
    assert again.json()["erased"] == {"reviews": 0, "invitations": 0, "photos": 0, "flags": 0}
    assert _figures(client) == before


def test_no_later_import_collection_form_or_order_brings_the_data_back(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings, state: ServiceState
) -> None:
    invitation, token = _annas_reviews(client, admin, settings)
    assert client.post(ERASE, json={"email": EMAIL}, headers=admin).status_code == 200
    before = _figures(client)
    imported = [
        review("imp-1", 1, title="Eén ster", text="Kapot geleverd.", author="Anna Bakker", email=EMAIL,
               order_ref="ORD-77", product="walnut-table", created_at="2026-11-19T10:00:00Z"),
        review("new-1", 2, title="Eén ster", text="Kapot geleverd, weer.", author="Anna B.",
               email=" Anna.Bakker@example.com"),
    ]  # fmt: skip
    answer = client.post("/v1/admin/business-units/test-shop/reviews", json=imported, headers=admin).json()
    assert (answer["unchanged"], answer["inserted"]) == (1, 1)  # the erased one compares equal to its anonymous self
    for rid in ("test-shop:api:imp-1", "test-shop:api:new-1"):
        stored = repository.get_review(rid)
        assert (stored.title, stored.text, stored.author, stored.email, stored.order_ref) == ("", "", "", None, None)
    assert repository.get_review("test-shop:api:new-1").rating == 2  # her new rating counts, anonymously
    # a collector's run (no address in its records) of the erased form review: same source + external_id
    collected = [{**review(invitation.id, 5, text="Zit prettig!"), "source": "form", "author": "Anna B."}]
    report = ingest.ingest(state, "test-shop", collected, now=NOW, collector=True)
    assert report.rejected == [] and repository.get_review(review_id(invitation, None)).text == ""
    assert client.post(f"/r/{token}", data=FORM, follow_redirects=False).status_code == 410
    order = {"business_unit": "test-shop", "order_ref": ORDER, "email": EMAIL, "name": "Anna Bakker",
             "products": ["oak-chair"], "ordered_at": "2026-11-18T10:00:00"}  # fmt: skip
    again = client.post("/v1/admin/invitations", json=order, headers=admin).json()
    assert (again["created"], again["mail"], again["email"], again["name"], again["order_ref"]) == (
        False, "suppressed", None, "", ""
    )  # fmt: skip
    other = client.post("/v1/admin/invitations", json={**order, "order_ref": "ORDER-2026-0043"}, headers=admin)
    assert (other.json()["mail"], other.json()["email"]) == ("suppressed", None)
    for path in PUBLIC:
        text = client.get(path).text
        assert all(words not in text for words in HERS), path
    (count, _, histogram), oak, walnut = _figures(client)
    assert count == before[0][0] + 1 and histogram["2"] == before[0][2]["2"] + 1  # new-1, anonymous
    assert histogram["5"] == before[0][2]["5"] + 1  # the collected record's rating is the platform's (4 -> 5)
    assert (oak, walnut) == (before[1], before[2])


def test_the_erased_text_leaves_another_instances_caches_within_two_seconds(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    """A second app on the same store (another replica) has her review cached; its poller hears of the erasure."""
    _annas_reviews(client, admin, settings)
    other = create_app(settings, connect=False, state=ServiceState())
    other.dependency_overrides[now_dep] = lambda: NOW
    with TestClient(other) as replica:
        shown = {"/widgets/test-shop/reviews.html": "Kees", "/v1/business-units/test-shop/reviews?product=oak-chair":
                 "Zit prettig", "/seo/test-shop/products/oak-chair.jsonld": "Mooie eiken stoel"}  # fmt: skip
        for _ in range(2):  # the second read of each is a cache hit
            assert all(words in replica.get(path).text for path, words in shown.items())
        assert client.post(ERASE, json={"email": EMAIL}, headers=admin).status_code == 200
        for path, words in shown.items():
            _within(2.0, lambda path=path, words=words: words not in replica.get(path).text)


def _within(seconds: float, seen: Callable[[], bool]) -> None:
    start = time.monotonic()
    for _ in range(500):
        if seen():
            return
        if time.monotonic() - start > seconds:
            break
        time.sleep(0.02)
    raise AssertionError(f"still shown after {seconds} s")


def test_erasure_needs_an_unscoped_token_and_an_address_and_stores_nothing_otherwise(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    scoped = client.post("/v1/admin/tokens", json={"name": "shop", "business_unit": "test-shop"}, headers=admin)
    shop_token = {"Authorization": f"Bearer {scoped.json()['token']}"}
    refusals: list[tuple[dict[str, str], Any, int]] = [
        ({}, {"email": EMAIL}, 401),
        (shop_token, {"email": EMAIL}, 403),
        (admin, {"email": "not-an-address"}, 422),
        (admin, {"email": "anna@example.com\r\nBcc: x@example.com"}, 422),
        (admin, {"email": "a" * 300 + "@example.com"}, 422),
        (admin, {"mail": EMAIL}, 422),
        (admin, {}, 422),
    ]
    for headers, body, status in refusals:
        answer = client.post(ERASE, json=body, headers=headers)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert "email must be an e-mail address" in client.post(ERASE, json={"email": "x"}, headers=admin).text
    assert docs.SuppressionDoc._get_collection().count_documents({}) == 0
    assert docs.ErasureDoc._get_collection().count_documents({}) == 0


def test_an_erased_address_is_never_mailed_again_in_any_unit(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings, state: ServiceState
) -> None:
    """Through the real SMTP server: her invitations due before the erasure, and orders invited after it, send
    nothing; a buyer who was not erased is mailed as usual."""
    with MailServer() as smtp:
        mailing = make_settings(SMTP_URL=smtp.url, MAIL_FROM="reviews@shop.example")
        repository.save_business_unit(state, domain.BusinessUnit(slug="other", name="Other Shop", locales=("en",)))
        order = {"email": "Anna.Bakker@example.com", "products": [], "ordered_at": "2026-11-10T10:00:00"}
        for bu, ref, address in (("test-shop", "A-1", None), ("other", "B-1", None), ("test-shop", "P-1", "piet")):
            body = {**order, "business_unit": bu, "order_ref": ref}
            if address:
                body["email"] = f"{address}@example.com"
            assert client.post("/v1/admin/invitations", json=body, headers=admin).json()["mail"] == "scheduled"
        assert client.post(ERASE, json={"email": EMAIL}, headers=admin).json()["erased"]["invitations"] == 2
        later = {**order, "business_unit": "other", "order_ref": "B-2", "ordered_at": "2026-11-20T08:00:00"}
        assert client.post("/v1/admin/invitations", json=later, headers=admin).json()["mail"] == "suppressed"
        sent = invitation_mailer.send_due(state, mailing, now=NOW + timedelta(days=10))
        assert sent["sent"] == 1 and smtp.inbox.wait_for(1)
        assert [to for _, rcpt in smtp.inbox.envelopes for to in rcpt] == ["piet@example.com"]
        invitation_mailer.send_due(state, mailing, now=NOW + timedelta(days=30))  # reminders
        assert {to for _, rcpt in smtp.inbox.envelopes for to in rcpt} == {"piet@example.com"}


def test_the_apps_own_secret_key_guards_its_ingest(
    connected: Any, shop: domain.BusinessUnit, admin: dict[str, str]
) -> None:
    """An app given its own REVIEWS_SECRET_KEY (not the process's) recognises the addresses it erased."""
    own = make_settings(REVIEWS_SECRET_KEY="another-secret-key-0123456789")
    app = create_app(own, connect=False, state=ServiceState())
    app.dependency_overrides[now_dep] = lambda: NOW
    with TestClient(app) as client:
        assert client.post(ERASE, json={"email": EMAIL}, headers=admin).status_code == 200
        records = [review("later", 4, text="Weer besteld.", email=EMAIL)]
        assert client.post("/v1/admin/business-units/test-shop/reviews", json=records, headers=admin).status_code == 200
    stored = repository.get_review("test-shop:api:later")
    assert (stored.text, stored.email, stored.rating) == ("", None, 4)


def test_an_ingest_that_read_the_review_before_another_process_erased_it_stores_it_anonymised(
    shop: domain.BusinessUnit, settings: Settings, state: ServiceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (its own locks) erases between this ingest's read and its write: the write misses by
    fingerprint, and the retry, checked again, stores the anonymous version, not the text it was given."""
    ingest.ingest(state, "test-shop", [review("r1", 2, text="Eerste versie.", email=EMAIL)], now=NOW)
    real_write = repository.write_reviews
    erased: list[dict[str, int]] = []

    def erase_first(*args: Any) -> set[str]:
        if not erased:
            erased.append(privacy.erase(ServiceState(), settings, EMAIL, now=NOW).as_dict())
        return real_write(*args)

    monkeypatch.setattr(repository, "write_reviews", erase_first)
    edit = [review("r1", 3, text="Tweede versie, met mijn naam: Anna Bakker.", email=EMAIL)]
    report = ingest.ingest(state, "test-shop", edit, now=NOW, settings=settings)
    assert erased == [{"reviews": 1, "invitations": 0, "photos": 0, "flags": 0}] and report.rejected == []
    stored = repository.get_review("test-shop:api:r1")
    assert (stored.text, stored.email, stored.rating) == ("", None, 3)


def test_a_moderator_s_reason_naming_the_reviewer_goes_with_the_erasure(
    client: TestClient, shop: domain.BusinessUnit, admin: dict[str, str], settings: Settings
) -> None:
    _annas_reviews(client, admin, settings)
    hide = {"status": "hidden", "reason": "Anna Bakker names her order ORD-77", "category": "personal_data"}
    answer = client.patch("/v1/admin/reviews/test-shop:api:imp-1", json=hide, headers=admin)
    assert answer.status_code == 200, answer.text
    assert client.post(ERASE, json={"email": EMAIL}, headers=admin).status_code == 200
    kept = client.get("/v1/admin/reviews/test-shop:api:imp-1", headers=admin).json()
    assert kept["status"] == "hidden" and "Bakker" not in str(kept) and "ORD-77" not in str(kept)
    assert kept["moderation"]["category"] == "personal_data" and kept["moderation"]["by"]
