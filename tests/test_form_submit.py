"""POST /r/{token}: a buyer's submission becomes verified reviews everywhere the shop shows them, an edit changes
them in place, and every abuse is answered in words with nothing stored (counted before and after)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from collectors.forms import review_id
from reviews_service import documents as docs
from reviews_service import domain, invitation_store, photos, repository
from reviews_service.api.deps import now_dep
from reviews_service.config import Settings, SettingsInvalid
from reviews_service.limits import body_limit
from tests.conftest import NOW, make_settings
from tests.form_helpers import EMAIL, ORDER, counts, invite, photo

GOOD = {
    "rating": "5",
    "title": "Snel en vriendelijk",
    "text": "Binnen twee dagen geleverd en netjes verpakt.",
    "rating.oak-chair": "4",
    "title.oak-chair": "Mooie stoel",
    "text.oak-chair": "Zit prettig, de kleur klopt met de foto.",
    "website": "",
}
PUBLIC_PAGES = (
    "/v1/business-units/test-shop/reviews",
    "/v1/business-units/test-shop/reviews?product=oak-chair",
    "/v1/business-units/test-shop/summary",
    "/v1/business-units/test-shop/products/oak-chair/summary",
    "/widgets/test-shop/data.json?skus=oak-chair,walnut-table",
    "/widgets/test-shop/reviews.html",
    "/widgets/test-shop/badge.html",
    "/widgets/test-shop/products/oak-chair/stars.html",
    "/seo/test-shop/products/oak-chair.jsonld",
    "/seo/test-shop/organization.jsonld",
)


def _post(client: TestClient, token: str, data: dict[str, str], files: list[Any] | None = None) -> Any:
    return client.post(f"/r/{token}", data=data, files=files, follow_redirects=False)


def test_a_submission_becomes_verified_reviews_in_summaries_lists_and_widgets(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    answer = _post(client, token, GOOD)
    assert answer.status_code == 303 and answer.headers["location"] == f"/r/{token}/thanks"
    assert answer.headers["cache-control"] == "no-store"
    thanks = client.get(answer.headers["location"])
    assert thanks.status_code == 200 and "Bedankt voor je beoordeling!" in thanks.text
    assert 'href="https://shop.example/reviews"' in thanks.text and f'href="/r/{token}"' in thanks.text
    assert client.get("/v1/business-units/test-shop/summary").json()["review_count"] == 1
    product = client.get("/v1/business-units/test-shop/products/oak-chair/summary").json()
    assert product["review_count"] == 1 and product["histogram"]["4"] == 1
    assert client.get("/v1/business-units/test-shop/products/walnut-table/summary").json()["review_count"] == 0
    listed = client.get("/v1/business-units/test-shop/reviews").json()["items"]
    assert [(r["rating"], r["author"], r["verified"], r["source"]) for r in listed] == [(5, "Anna B.", True, "form")]
    stars = client.get("/widgets/test-shop/products/oak-chair/stars.html").text
    assert "Beoordeeld met 4,0 van 5 op basis van 1 beoordeling" in stars
    assert "Anna B." in client.get("/widgets/test-shop/reviews.html").text
    data = client.get("/widgets/test-shop/data.json?skus=oak-chair,walnut-table").json()
    assert data["summary"]["review_count"] == 1 and "op basis van 1 beoordeling" in data["products"]["oak-chair"]
    stored = repository.get_review(review_id(invitation, "oak-chair"))
    assert stored.verified and stored.collection_method == "post_fulfillment" and stored.product == "oak-chair"
    assert stored.email is None and stored.order_ref is None and stored.external_id == f"{invitation.id}.oak-chair"
    assert stored.created_at == NOW and stored.language == "nl"
    after = invitation_store.get_invitation(invitation.id)
    assert after.submissions == 1 and after.reviewed_at == NOW and after.reminder_at is None
    assert after.state(NOW) == "reviewed"


def test_no_public_answer_carries_the_email_order_or_full_name(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    _, token = invite(settings)
    assert _post(client, token, GOOD).status_code == 303
    for path in (*PUBLIC_PAGES, f"/r/{token}", f"/r/{token}/thanks"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        for personal in (EMAIL, ORDER, "Bakker", "anna.bakker"):
            assert personal not in answer.text, (path, personal)


def test_a_second_submission_edits_the_first_in_place(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    assert _post(client, token, GOOD).status_code == 303
    first = repository.get_review(review_id(invitation, None))
    client.app.dependency_overrides[now_dep] = lambda: NOW + timedelta(hours=5)  # type: ignore[attr-defined]
    edited = {**GOOD, "rating": "2", "title": "Toch niet zo snel", "rating.walnut-table": "3"}
    assert _post(client, token, edited).status_code == 303
    assert counts(invitation.id) == {"reviews": 3, "photos": 0, "submissions": 2}
    summary = client.get("/v1/business-units/test-shop/summary").json()
    assert summary["review_count"] == 1 and summary["histogram"]["2"] == 1 and summary["histogram"]["5"] == 0
    assert client.get("/v1/business-units/test-shop/products/walnut-table/summary").json()["review_count"] == 1
    again = repository.get_review(review_id(invitation, None))
    assert again.id == first.id and again.rating == 2 and again.title == "Toch niet zo snel"
    assert again.created_at == first.created_at == NOW  # dated at the first submission
    assert repository.get_review(review_id(invitation, "walnut-table")).created_at == NOW
    assert invitation_store.get_invitation(invitation.id).reviewed_at == NOW
    assert len(client.get("/v1/business-units/test-shop/reviews").json()["items"]) == 1


def test_photos_are_stored_without_exif_and_replaced_by_new_ones(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    files = [
        ("photo.oak-chair", ("IMG_0001.jpg", photo(exif=True), "image/jpeg")),
        ("photo.oak-chair", ("chair.png", photo("PNG"), "image/png")),
    ]
    assert _post(client, token, GOOD, files).status_code == 303
    review = repository.get_review(review_id(invitation, "oak-chair"))
    assert len(review.photos) == 2
    for photo_id in review.photos:
        stored = photos.get_photo(photo_id)
        assert stored is not None and stored["review_id"] == review.id and stored["content_type"] == "image/jpeg"
        decoded = Image.open(io.BytesIO(stored["data"]))
        assert decoded.format == "JPEG" and not decoded.getexif() and b"SecretPhone" not in stored["data"]
    assert _post(client, token, GOOD).status_code == 303  # no upload: the photos stay
    assert repository.get_review(review.id).photos == review.photos
    assert "Foto’s bij je eerdere beoordeling: 2" in client.get(f"/r/{token}").text
    new = [("photo.oak-chair", ("new.webp", photo("WEBP"), "image/webp"))]
    assert _post(client, token, GOOD, new).status_code == 303
    replaced = repository.get_review(review.id).photos
    assert len(replaced) == 1 and not set(replaced) & set(review.photos)
    assert all(photos.get_photo(p) is None for p in review.photos)  # the old documents are gone
    assert docs.PhotoDoc._get_collection().count_documents({}) == 1


def test_an_empty_file_input_is_no_photo(client: TestClient, shop: domain.BusinessUnit, settings: Settings) -> None:
    invitation, token = invite(settings)
    files = [("photo.oak-chair", ("", b"", "application/octet-stream")), ("photo.walnut-table", ("", b"", ""))]
    assert _post(client, token, GOOD, files).status_code == 303
    assert counts(invitation.id) == {"reviews": 2, "photos": 0, "submissions": 1}


def _refused(client: TestClient, token: str, invitation_id: str, data: dict[str, str], files: Any = None) -> Any:
    """Post, and check that nothing at all was stored."""
    before = counts(invitation_id)
    answer = _post(client, token, data, files)
    assert counts(invitation_id) == before, answer.text[:500]
    assert answer.headers["cache-control"] == "no-store"
    return answer


@pytest.mark.parametrize(
    ("change", "field_id", "words"),
    [
        ({"rating": ""}, "s0-rating", "Kies hoeveel sterren je de winkel geeft"),
        ({"rating": "0"}, "s0-rating", "Een beoordeling is 1 tot 5 sterren."),
        ({"rating": "6"}, "s0-rating", "Een beoordeling is 1 tot 5 sterren."),
        ({"rating": "4.5"}, "s0-rating", "Een beoordeling is 1 tot 5 sterren."),
        ({"rating": "vijf"}, "s0-rating", "Een beoordeling is 1 tot 5 sterren."),
        ({"rating.oak-chair": "-1"}, "s1-rating", "Een beoordeling is 1 tot 5 sterren."),
        ({"title": "x" * 151}, "s0-title", "Graag hooguit 150 tekens: dit zijn er 151."),
        ({"text": "y" * 5001}, "s0-text", "Graag hooguit 5.000 tekens: dit zijn er 5.001."),
        ({"text.oak-chair": "z" * 6000}, "s1-text", "dit zijn er 6.000"),
        ({"rating.walnut-table": "", "text.walnut-table": "Mooi"}, "s2-rating", "Kies ook hoeveel sterren"),
    ],
)
def test_bad_fields_show_the_form_again_with_the_error_beside_the_field(
    client: TestClient,
    shop: domain.BusinessUnit,
    settings: Settings,
    change: dict[str, str],
    field_id: str,
    words: str,
) -> None:
    invitation, token = invite(settings)
    answer = _refused(client, token, invitation.id, {**GOOD, **change})
    assert answer.status_code == 422
    html = answer.text
    assert f'id="{field_id}-error"' in html and words in html
    assert f'aria-describedby="{field_id}-error"' in html or f'{field_id}-hint {field_id}-error"' in html
    assert 'role="alert"' in html and f'href="#{field_id}' in html  # the summary links to the field
    for key, value in {**GOOD, **change}.items():  # every value kept, the wrong ones too
        if key.startswith(("title", "text")) and value:
            assert value in html, key


def test_a_product_not_in_the_order_is_refused(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings, products=("oak-chair",))
    for field in ("rating.walnut-table", "title.walnut-table", "rating.no-such-sku"):
        answer = _refused(client, token, invitation.id, {**GOOD, field: "5"})
        assert answer.status_code == 422 and "niet bij deze bestelling hoort" in answer.text
    files = [("photo.walnut-table", ("a.jpg", photo(), "image/jpeg"))]
    assert _refused(client, token, invitation.id, GOOD, files).status_code == 422


def test_a_filled_honeypot_is_refused_with_a_page_that_says_so(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    files = [("photo.oak-chair", ("a.jpg", photo(), "image/jpeg"))]
    answer = _refused(client, token, invitation.id, {**GOOD, "website": "http://spam.example"}, files)
    assert answer.status_code == 400 and "Je beoordeling kon niet worden verstuurd" in answer.text
    assert f'href="/r/{token}"' in answer.text


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (("notes.jpg", b"this is text, not a photo", "image/jpeg"), "“notes.jpg” is geen foto"),
        (("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"), "“anim.gif”"),
        (("huge.jpg", b"\xff\xd8" + b"0" * (8 * 1024 * 1024 + 1), "image/jpeg"), "groter dan 8 MB"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_beside_its_field(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings, upload: tuple[str, bytes, str], words: str
) -> None:
    invitation, token = invite(settings)
    files = [("photo.oak-chair", upload), ("photo.walnut-table", ("ok.jpg", photo(), "image/jpeg"))]
    answer = _refused(client, token, invitation.id, {**GOOD, "rating.walnut-table": "5"}, files)
    assert answer.status_code == 422
    assert 'id="s1-photo-error"' in answer.text and words in answer.text
    assert "Kies je foto’s opnieuw" in answer.text  # the good photo of the other product was not kept either


def test_more_than_three_photos_are_refused(client: TestClient, shop: domain.BusinessUnit, settings: Settings) -> None:
    invitation, token = invite(settings)
    four = [("photo.oak-chair", (f"{i}.jpg", photo(), "image/jpeg")) for i in range(4)]
    answer = _refused(client, token, invitation.id, GOOD, four)
    assert answer.status_code == 422 and "Hooguit 3 foto’s per product: je koos er 4." in answer.text
    many = [("photo.oak-chair", (f"{i}.jpg", b"x", "image/jpeg")) for i in range(40)]
    answer = _refused(client, token, invitation.id, GOOD, many)  # more parts than the form has: not even parsed
    assert answer.status_code == 422 and "kies hooguit 3 foto’s per product" in answer.text


def test_forged_and_expired_tokens_store_nothing(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    assert _refused(client, forged, invitation.id, GOOD).status_code == 404
    assert _post(client, token, GOOD).status_code == 303  # genuine while valid ...
    client.app.dependency_overrides[now_dep] = lambda: invitation.expires_at + timedelta(seconds=1)  # type: ignore[attr-defined]
    replay = _refused(client, token, invitation.id, {**GOOD, "rating": "1"})  # ... replayed after its expiry
    assert replay.status_code == 410 and "Deze beoordelingslink is verlopen" in replay.text
    assert repository.get_review(review_id(invitation, None)).rating == 5
    assert client.get(f"/r/{token}/thanks").status_code == 410


def test_a_flood_of_posts_to_one_form_is_stopped_per_token(connected: object, shop: domain.BusinessUnit) -> None:
    from reviews_service.app import create_app

    settings = make_settings(REVIEWS_FORM_POSTS_PER_TOKEN="3")
    app = create_app(settings, connect=False)
    app.dependency_overrides[now_dep] = lambda: NOW
    invitation, token = invite(settings)
    _, other_token = invite(settings, order_ref="ORDER-2")
    with TestClient(app) as client:
        for _ in range(3):
            assert _post(client, token, GOOD).status_code == 303
        flooded = _refused(client, token, invitation.id, {**GOOD, "rating": "1"})
        assert flooded.status_code == 429 and int(flooded.headers["retry-after"]) > 60
        assert "Te veel pogingen" in flooded.text and "minuten" in flooded.text
        assert _post(client, other_token, GOOD).status_code == 303  # another buyer's form is not held up
        for forged in ("junk-a", "junk-b", "junk-c", "junk-d"):  # forged tokens take no form's place
            assert _post(client, forged, GOOD).status_code == 404
    assert repository.get_review(review_id(invitation, None)).rating == 5


def test_a_flood_from_one_address_is_stopped_per_client(connected: object, shop: domain.BusinessUnit) -> None:
    from reviews_service.app import create_app

    settings = make_settings(REVIEWS_PUBLIC_POSTS_PER_MINUTE="2")
    app = create_app(settings, connect=False)
    app.dependency_overrides[now_dep] = lambda: NOW
    invitation, token = invite(settings)
    with TestClient(app) as client:
        assert _post(client, "junk", GOOD).status_code == 404
        assert _post(client, "junk", GOOD).status_code == 404
        flooded = client.post(f"/r/{token}", data=GOOD, headers={"Accept-Language": "fr"}, follow_redirects=False)
        assert flooded.status_code == 429 and flooded.headers["retry-after"]
        assert "Trop de tentatives" in flooded.text and flooded.headers["content-type"].startswith("text/html")
    assert counts(invitation.id) == {"reviews": 0, "photos": 0, "submissions": 0}


def test_a_body_over_the_form_limit_is_refused_before_it_is_read(connected: object, shop: domain.BusinessUnit) -> None:
    from reviews_service.app import create_app

    settings = make_settings(REVIEWS_MAX_FORM_BODY_BYTES=str(1024 * 1024))
    app = create_app(settings, connect=False)
    app.dependency_overrides[now_dep] = lambda: NOW
    invitation, token = invite(settings)
    big = [("photo.oak-chair", ("big.jpg", b"\xff\xd8" + b"1" * (2 * 1024 * 1024), "image/jpeg"))]
    with TestClient(app) as client:
        answer = client.post(f"/r/{token}", data=GOOD, files=big, headers={"Accept-Language": "nl"})
        assert answer.status_code == 413 and "Je foto’s zijn samen te groot" in answer.text
        assert "hooguit 1 MB" in answer.text
    assert counts(invitation.id) == {"reviews": 0, "photos": 0, "submissions": 0}


def test_the_form_body_limit_allows_photos_and_only_on_the_form() -> None:
    settings = make_settings()
    assert body_limit("/r/some-token", settings) == 25 * 1024 * 1024
    assert body_limit("/r/some-token/unsubscribe", settings) == settings.max_public_body_bytes
    assert body_limit("/r/", settings) == settings.max_public_body_bytes
    with pytest.raises((SettingsInvalid, ValueError)):
        make_settings(REVIEWS_MAX_FORM_BODY_BYTES="10")
    with pytest.raises((SettingsInvalid, ValueError)):
        make_settings(REVIEWS_FORM_POSTS_PER_TOKEN="-1")


def test_a_form_posted_as_json_or_empty_is_the_form_again(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    before = counts(invitation.id)
    answer = client.post(f"/r/{token}", json={"rating": 5})
    assert answer.status_code == 422 and "Kies hoeveel sterren je de winkel geeft" in answer.text
    assert client.post(f"/r/{token}").status_code == 422
    assert counts(invitation.id) == before
