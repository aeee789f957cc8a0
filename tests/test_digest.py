"""The daily digest's content: a unit's own calendar day, its trend, its one-star reviews, in its language, and
every customer's word escaped; the JSON, the e-mail's HTML and the signed web page over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from reviews_service import digests, domain, ingest, repository
from reviews_service.config import Settings
from reviews_service.digest_links import make_links
from reviews_service.state import ServiceState
from sentiment.digest import build_digest, day_bounds
from tests.conftest import NOW

DAY = date(2026, 11, 19)  # NOW is 2026-11-20 12:00 UTC: the 19th is yesterday in Amsterdam and in New York
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def record(n: int, rating: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "source": "test",
        "external_id": f"r{n}",
        "rating": rating,
        "title": f"Title {n}",
        "text": f"Text of review {n}.",
        "author": f"Customer {n}",
        "created_at": at.isoformat(),
        **extra,
    }


def add(state: ServiceState, unit: str, records: list[dict[str, Any]]) -> None:
    report = ingest.ingest(state, unit, records, now=NOW)
    assert not report.rejected, report.rejected


def unit(state: ServiceState, slug: str, locale: str, timezone: str = "Europe/Amsterdam") -> None:
    repository.save_business_unit(
        state, domain.BusinessUnit(slug=slug, name=f"Shop {slug}", locales=(locale,), timezone=timezone)
    )


def test_the_day_is_the_units_own_midnight_to_midnight(connected: object, state: ServiceState) -> None:
    """23:30 UTC on the 18th is already the 19th in Amsterdam (UTC+1) but still the 18th in New York (UTC-5)."""
    unit(state, "ams", "nl")
    unit(state, "nyc", "en", "America/New_York")
    late = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)
    for slug in ("ams", "nyc"):
        add(state, slug, [record(1, 5, late), record(2, 3, datetime(2026, 11, 19, 12, tzinfo=UTC))])
    ams = digests.build(state, "ams", DAY, now=NOW)
    nyc = digests.build(state, "nyc", DAY, now=NOW)
    assert (ams.count, ams.average) == (2, 4.0)
    assert (nyc.count, nyc.average) == (1, 3.0)
    assert digests.build(state, "nyc", date(2026, 11, 18), now=NOW).count == 1


def test_a_day_when_the_clocks_change_has_its_real_length() -> None:
    """Sunday 25 October 2026 lasts 25 hours in Amsterdam: a review at 23:30 UTC that evening still counts."""
    start, end = day_bounds(date(2026, 10, 25), "Europe/Amsterdam")
    assert end - start == timedelta(hours=25)
    shop = domain.BusinessUnit(slug="s", name="S", locales=("nl",), timezone="Europe/Amsterdam")
    late = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)  # 23:30 local (UTC+1 after the change)
    digest = build_digest(shop, date(2026, 10, 25), now=NOW, ratings=[(late, 4, 1)], one_stars=[])
    assert digest.count == 1


def test_the_trend_compares_each_window_with_the_one_before(connected: object, state: ServiceState) -> None:
    """7 days of fives after 7 days of threes: +2 over the 7-day window; the 90-day window has nothing before it
    within what was read, so its change is not guessed."""
    unit(state, "shop", "en")
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    records = [record(i, 5, noon - timedelta(days=i)) for i in range(7)]
    records += [record(100 + i, 3, noon - timedelta(days=7 + i)) for i in range(7)]
    records.append(record(999, 1, noon - timedelta(days=90)))  # one day too old for the 90 days
    add(state, "shop", records)
    digest = digests.build(state, "shop", DAY, now=NOW)
    week, month, quarter = digest.windows
    assert (week.days, week.count, week.average, week.previous_average, week.change) == (7, 7, 5.0, 3.0, 2.0)
    assert (month.count, month.average) == (14, 4.0)
    assert (quarter.count, quarter.change) == (14, None)
    assert len(quarter.points) == 90 and quarter.points[-1].day == DAY
    assert quarter.points[-1].rolling == 5.0 and quarter.points[-7].rolling == pytest.approx(23 / 7, abs=0.01)


def test_every_one_star_review_of_the_day_in_full_and_no_other(connected: object, state: ServiceState) -> None:
    """Only that day's one-star reviews, oldest first, with their product's name, never an e-mail address."""
    unit(state, "shop", "en")
    repository.save_products(state, [domain.Product(business_unit="shop", sku="oak", name="Oak chair")])
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    add(
        state,
        "shop",
        [
            record(1, 1, noon, product="oak", email="angry@example.com", text="Broke after a week.\nNever again."),
            record(2, 1, noon - timedelta(hours=3)),
            record(3, 1, noon - timedelta(days=1)),  # the day before
            record(4, 2, noon),
        ],
    )
    digest = digests.build(state, "shop", DAY, now=NOW)
    assert [r.id for r in digest.one_stars] == ["shop:test:r2", "shop:test:r1"]
    assert digest.one_stars[1].product_name == "Oak chair"
    assert digest.one_stars[1].text == "Broke after a week.\nNever again."
    assert digest.one_stars_total == 2
    with_links = digests.message(make_settings_for_mail(), digest, ["boss@example.com"], now=NOW)
    assert "angry@example.com" not in with_links.as_string()


def make_settings_for_mail() -> Settings:
    from tests.conftest import make_settings

    return make_settings(REVIEWS_PUBLIC_URL="https://reviews.example")


def test_an_empty_day_says_so_in_the_units_language(connected: object, state: ServiceState) -> None:
    unit(state, "nl-shop", "nl")
    unit(state, "de-shop", "de")
    settings = make_settings_for_mail()
    for slug, words in (("nl-shop", "Gisteren geen nieuwe beoordelingen."), ("de-shop", "Gestern keine neuen")):
        digest = digests.build(state, slug, DAY, now=NOW)
        assert digest.empty
        email = digests.message(settings, digest, ["boss@example.com"], now=NOW)
        text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert words in text and words in html
    older = digests.build(state, "nl-shop", date(2026, 11, 1), now=NOW)
    assert "Geen nieuwe beoordelingen op 1 nov 2026." in digests.digest_text.text(older, None)


def test_the_email_is_in_the_units_language_with_its_numbers_and_escapes_every_word(
    connected: object, state: ServiceState
) -> None:
    """Dutch words and decimal commas; a review's HTML shown as text, never as markup; the chart a cid: PNG."""
    unit(state, "nl-shop", "nl")
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    add(state, "nl-shop", [record(1, 1, noon, title=HOSTILE, author=HOSTILE, text=HOSTILE), record(2, 4, noon)])
    digest = digests.build(state, "nl-shop", DAY, now=NOW)
    email = digests.message(make_settings_for_mail(), digest, ["boss@example.com"], now=NOW)
    assert email["Subject"] == "Shop nl-shop: 2 nieuwe beoordelingen op 19 nov 2026, gemiddeld 2,5"
    html_part = email.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "2 nieuwe beoordelingen" in html and "Gemiddeld 2,50 van 5" in html
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    [image] = [part for part in email.walk() if part.get_content_type() == "image/png"]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Deze beoordeling modereren" in html
    assert "https://reviews.example/v1/admin/reviews/nl-shop%3Atest%3Ar1" in html
    text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert HOSTILE in text  # plain text shows the words as written


@pytest.mark.parametrize(("locale", "heading", "one_star"), [("fr", "Synthèse du jour", "Avis à une étoile"),
                                                           ("en", "Daily digest", "One-star reviews")])  # fmt: skip
def test_french_and_english_digests(
    connected: object, state: ServiceState, locale: str, heading: str, one_star: str
) -> None:
    unit(state, "shop", locale)
    add(state, "shop", [record(1, 1, datetime(2026, 11, 19, 12, tzinfo=UTC))])
    text = digests.digest_text.text(digests.build(state, "shop", DAY, now=NOW), None)
    assert heading in text and one_star in text


# --- over HTTP ------------------------------------------------------------------------------------


def test_the_admin_digest_as_json_and_as_html(client: TestClient, admin: dict[str, str], state: ServiceState) -> None:
    unit(state, "shop", "en")
    add(state, "shop", [record(1, 1, datetime(2026, 11, 19, 12, tzinfo=UTC), text=HOSTILE)])
    got = client.get("/v1/admin/business-units/shop/digests/2026-11-19", headers=admin)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["reviews"] == {"count": 1, "average": 1.0, "histogram": {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}}
    assert [w["days"] for w in body["trend"]] == [7, 30, 90] and len(body["trend"][2]["series"]) == 90
    assert body["one_star_reviews"][0]["text"] == HOSTILE
    assert body["delivery"]["status"] is None
    page = client.get("/v1/admin/business-units/shop/digests/2026-11-19", headers={**admin, "Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "data:image/png;base64," in page.text and "<script>" not in page.text


@pytest.mark.parametrize("day", ["2026-13-01", "20261119", "yesterday", "1999-01-01", "2026-11-19x"])
def test_a_bad_date_is_422_and_an_unknown_unit_404(
    client: TestClient, admin: dict[str, str], state: ServiceState, day: str
) -> None:
    unit(state, "shop", "en")
    bad = client.get(f"/v1/admin/business-units/shop/digests/{day}", headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json", bad.text
    assert "YYYY-MM-DD" in bad.json()["detail"]
    missing = client.get("/v1/admin/business-units/nope/digests/2026-11-19", headers=admin)
    assert missing.status_code == 404
    assert client.get("/v1/admin/business-units/shop/digests/2026-11-19").status_code == 401


def _signed(settings: Settings, slug: str, day: date, made: datetime) -> str:
    link = make_links("http://testserver", settings.secret_key.get_secret_value(), slug, day, now=made)
    parts = urlsplit(link.page)
    return f"{parts.path}?{parts.query}"


def test_the_signed_link_opens_the_web_page_and_nothing_else(
    client: TestClient, settings: Settings, state: ServiceState
) -> None:
    """No token: the signature is the key. The page has the SVG chart; a changed unit, day, expiry or signature,
    or a link older than 7 days, gets a 403 page that says why."""
    unit(state, "shop", "nl")
    unit(state, "other", "nl")
    add(state, "shop", [record(1, 1, datetime(2026, 11, 19, 12, tzinfo=UTC), text=HOSTILE)])
    good = _signed(settings, "shop", DAY, NOW - timedelta(days=1))
    page = client.get(good)
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "Beoordelingen met één ster" in page.text and "<script>" not in page.text
    assert page.headers["cache-control"] == "private, no-store" and page.headers["referrer-policy"] == "no-referrer"
    query = parse_qs(urlsplit(good).query)
    exp, sig = query["exp"][0], query["sig"][0]
    forged = [
        f"/digests/other/2026-11-19?exp={exp}&sig={sig}",
        f"/digests/shop/2026-11-18?exp={exp}&sig={sig}",
        f"/digests/shop/2026-11-19?exp={int(exp) + 86400}&sig={sig}",
        f"/digests/shop/2026-11-19?exp={exp}&sig={sig[:-1]}{'0' if sig[-1] != '0' else '1'}",
        f"/digests/shop/2026-11-19?exp={exp}&sig=%C3%A9{sig[2:]}",
        f"/digests/shop/2026-11-19?exp=%C2%B2&sig={sig}",  # '²': a digit to str.isdigit(), not to int()
        "/digests/shop/2026-11-19",
        f"/digests/shop/not-a-day?exp={exp}&sig={sig}",
    ]
    for url in forged:
        refused = client.get(url, headers={"Accept-Language": "nl-NL,nl;q=0.9"})
        assert refused.status_code == 403, url
        assert "Deze link is ongeldig" in refused.text, url
    expired = client.get(_signed(settings, "shop", DAY, NOW - timedelta(days=7, seconds=1)))
    assert expired.status_code == 403 and "This link has expired" in expired.text


def test_the_trend_follows_edits_and_moderation_and_the_nightly_check_repairs_it(
    connected: object, state: ServiceState
) -> None:
    """The trend is read from rating buckets that ingest and moderation move; a unit stored before them is
    counted at its first digest, and a bucket that drifted is put right by the nightly check."""
    from reviews_service import documents, jobs

    unit(state, "shop", "en")
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    add(state, "shop", [record(1, 5, noon), record(2, 4, noon - timedelta(days=3))])

    def summary() -> tuple[int, float | None]:
        digest = digests.build(state, "shop", DAY, now=NOW)
        return digest.count, digest.windows[0].average

    assert summary() == (1, 4.5)
    add(state, "shop", [record(1, 1, noon)])  # the platform's edit: five stars became one
    assert summary() == (1, 2.5)
    ingest.moderate(state, "shop:test:r1", status="hidden", reply=None, now=NOW, reason="Spam")
    assert summary() == (0, 4.0)
    ingest.moderate(state, "shop:test:r1", status="published", reply=None, now=NOW)
    assert summary() == (1, 2.5)
    buckets = documents.RatingBucketDoc._get_collection()
    buckets.update_many({"business_unit": "shop", "start": {"$ne": None}}, {"$inc": {"h3": 7}})  # drift
    assert summary()[0] == 8
    jobs.check_summaries(state)
    assert summary() == (1, 2.5)
    # reviews stored before buckets were kept: counted once, at the unit's first digest
    unit(state, "older", "en")
    old = domain.Review(id="older:x:1", business_unit="older", source="x", external_id="1", rating=2, title="",
                        text="", created_at=noon, updated_at=noon)  # fmt: skip
    documents.ReviewDoc._get_collection().insert_one(documents.review_to_raw(old))
    assert digests.build(state, "older", DAY, now=NOW).count == 1


def test_the_recurring_complaints_with_their_change_and_examples(connected: object, state: ServiceState) -> None:
    """Late deliveries in each of the last four 30-day windows: a recurring topic, labelled in the unit's
    language, with its count against the 30 days before and the complaint quoted from an example review."""
    unit(state, "shop", "nl")
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    late = "Na drie weken nog steeds niet geleverd, de levering is veel te laat."
    records = [
        record(10 * w + i, 1, noon - timedelta(days=30 * w + 2 * i), text=late, language="nl")
        for w in range(4)
        for i in range(3 if w else 5)  # 5 this month, 3 in each month before
    ]
    add(state, "shop", records)
    digest = digests.build(state, "shop", DAY, now=NOW)
    [delivery] = [c for c in digest.complaints if c.topic == "delivery"]
    assert (delivery.label, delivery.count, delivery.previous, delivery.change, delivery.recurring) == (
        "Levering",
        5,
        3,
        2,
        True,
    )
    assert delivery.examples and late in delivery.examples[0][1]
    text = digests.digest_text.text(digest, None)
    assert "- Levering: 5 klachten, +2 ten opzichte van de vorige periode" in text


def test_open_flags_with_their_reasons_but_not_the_days_one_stars_twice(connected: object, state: ServiceState) -> None:
    """An older one-star review's open flag is listed with its reason in the unit's language; the day's own
    one-star reviews are shown in full above, so their flags are not repeated."""
    unit(state, "shop", "nl")
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    bad = "Kapot aangekomen en de klantenservice reageert niet. Slecht."
    add(state, "shop", [record(1, 1, noon - timedelta(days=2), text=bad), record(2, 1, noon, text=bad)])
    digest = digests.build(state, "shop", DAY, now=NOW)
    assert [(f.kind, f.review_id) for f in digest.flags] == [("one-star", "shop:test:r1")]
    assert digest.flags[0].reason and "ster" in digest.flags[0].reason
    assert digest.sections_pending == ()
    assert digest.flags[0].reason in digests.digest_text.text(digest, None)


def test_each_open_flag_says_which_review_it_is_about(connected: object, state: ServiceState) -> None:
    """Twenty one-star flags read alike ("1 star, while the shop averages 4.0"): each line also names the
    review (its title, or its first words without one), its author and its date, escaped in the HTML."""
    unit(state, "shop", "nl")
    noon = datetime(2026, 11, 19, 12, tzinfo=UTC)
    long_text = "Nooit geleverd " + "en niemand neemt de telefoon op " * 10
    add(
        state,
        "shop",
        [
            record(1, 1, noon - timedelta(days=2), title="Kast <b>kapot</b>", author="Anouk"),
            record(2, 1, noon - timedelta(days=3), title="", text=long_text, author="Bram"),
        ],
    )
    digest = digests.build(state, "shop", DAY, now=NOW)
    by_review = {f.review_id: f for f in digest.flags}
    assert by_review["shop:test:r1"].subject == "Kast <b>kapot</b>"
    assert by_review["shop:test:r1"].author == "Anouk"
    second = by_review["shop:test:r2"].subject
    assert second.startswith("Nooit geleverd") and second.endswith("…") and len(second) <= 81
    text = digests.digest_text.text(digest, None)
    assert "“Kast <b>kapot</b>” · Anouk · 17 nov 2026" in text
    html = digests.digest_render.html(digest, make_links("http://x", "k" * 32, "shop", DAY, now=NOW), "<svg></svg>")
    assert "“Kast &lt;b&gt;kapot&lt;/b&gt;” · Anouk" in html and "<b>kapot" not in html
