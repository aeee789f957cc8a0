"""Sentiment stored on reviews: analysed at ingest, kept while the text is unchanged, `reviews rescore`, and
POST /v1/admin/sentiment."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from reviews_service import domain, ingest, repository, store
from reviews_service.state import ServiceState
from sentiment import VERSION
from sentiment.reviews import RATING_FALLBACK
from tests.conftest import NOW, REVIEWS, _env, make_settings, review

ANALYSE = "/v1/admin/sentiment"


def _stored(external_id: str) -> domain.Review:
    (found,) = [r for r in repository.iter_reviews("test-shop") if r.external_id == external_id]
    return found


def test_new_reviews_are_stored_with_their_analysis(shop: domain.BusinessUnit, state: ServiceState) -> None:
    ingest.ingest(
        state,
        shop.slug,
        [
            review("bad", 1, title="Nooit meer", text="De kast kwam beschadigd aan en nog steeds geen reactie."),
            review("good", 5, title="Top", text="Snel geleverd en goed verpakt, zeer tevreden."),
        ],
        now=NOW,
    )
    bad, good = _stored("bad"), _stored("good")
    assert (bad.sentiment_label, bad.sentiment_version, bad.language) == ("negative", VERSION, "nl")
    assert bad.sentiment is not None and bad.sentiment < 0
    assert good.sentiment_label == "positive" and good.sentiment is not None and good.sentiment > 0
    assert isinstance(bad.aspects, tuple)


def test_a_language_we_do_not_analyse_is_labelled_by_its_rating(shop: domain.BusinessUnit, state: ServiceState) -> None:
    text = "Muy mal servicio, nunca llegó el pedido y nadie contesta los correos electrónicos."
    ingest.ingest(state, shop.slug, [review("es", 2, title="", text=text)], now=NOW)
    stored = _stored("es")
    assert (stored.sentiment, stored.sentiment_label, stored.sentiment_version) == (None, "negative", RATING_FALLBACK)


def test_a_one_language_shop_does_not_lend_its_language_to_a_review_plainly_in_another(
    connected: object, state: ServiceState
) -> None:
    """A Dutch-only shop's language helps texts too short to tell; a Spanish review is still not scored as Dutch."""
    repository.save_business_unit(state, domain.BusinessUnit(slug="nl-only", name="NL", locales=("nl",)))
    text = "Muy mal servicio, nunca llegó el pedido y nadie contesta los correos electrónicos."
    ingest.ingest(
        state, "nl-only", [review("es", 4, title="", text=text), review("kort", 5, title="", text="Top!")], now=NOW
    )
    (spanish,) = [r for r in repository.iter_reviews("nl-only") if r.external_id == "es"]
    (short,) = [r for r in repository.iter_reviews("nl-only") if r.external_id == "kort"]
    assert spanish.language is None
    assert (spanish.sentiment, spanish.sentiment_label, spanish.sentiment_version) == (
        None,
        "positive",
        RATING_FALLBACK,
    )
    assert short.language == "nl"


def test_unchanged_text_keeps_its_analysis_and_an_edit_is_analysed_again(
    shop: domain.BusinessUnit, state: ServiceState
) -> None:
    ingest.ingest(state, shop.slug, [review("r1", 4, text="Mooie stoel, snel geleverd.")], now=NOW)
    # mark the stored analysis, so we can tell whether ingest kept it or analysed again
    repository.save_analyses([replace(_stored("r1"), sentiment=0.123, sentiment_version="marker")])
    ingest.ingest(state, shop.slug, [review("r1", 4, text="Mooie stoel, snel geleverd.", author="Other")], now=NOW)
    assert (_stored("r1").sentiment, _stored("r1").sentiment_version) == (0.123, "marker")
    ingest.ingest(state, shop.slug, [review("r1", 1, text="De stoel is na een week kapot. Nooit meer!")], now=NOW)
    edited = _stored("r1")
    assert (edited.sentiment_label, edited.sentiment_version) == ("negative", VERSION)


def test_rescore_recomputes_what_an_older_analyser_wrote(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = _env(REVIEWS_DATA_DIR=str(data))
    assert subprocess.run([*REVIEWS, "demo"], capture_output=True, text=True, timeout=120, env=env).returncode == 0
    settings = make_settings(REVIEWS_DATA_DIR=str(data), MONGODB_URL=None, MONGODB_DB="reviews")  # as the CLI
    store.connect(settings)
    try:
        stored = list(repository.iter_reviews())
        assert stored and all(r.sentiment_version in (VERSION, RATING_FALLBACK) for r in stored)
        stale = [replace(r, sentiment=None, sentiment_label=None, sentiment_version="0-old") for r in stored[:7]]
        repository.save_analyses(stale)
    finally:
        store.disconnect()
    result = subprocess.run([*REVIEWS, "rescore"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "rescoring" in result.stderr and "7/7" in result.stderr  # tqdm's bar
    report = json.loads(result.stdout)
    assert (report["rescored"], report["version"], report["label_changed"]) == (7, VERSION, 7)
    unknown = subprocess.run([*REVIEWS, "rescore", "-b", "nope"], capture_output=True, text=True, timeout=120, env=env)
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    again = subprocess.run([*REVIEWS, "rescore"], capture_output=True, text=True, timeout=120, env=env)
    assert json.loads(again.stdout)["rescored"] == 0
    everything = subprocess.run([*REVIEWS, "rescore", "--all"], capture_output=True, text=True, timeout=120, env=env)
    assert json.loads(everything.stdout)["rescored"] == len(stored)
    store.connect(settings)
    try:
        assert all(r.sentiment_version in (VERSION, RATING_FALLBACK) for r in repository.iter_reviews())
    finally:
        store.disconnect()


def test_the_analyse_endpoint_answers_like_ingest(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(ANALYSE, json={"text": "Nog steeds niet geleverd, niet aan te raden."}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["label"], body["language"], body["version"], body["analysed"]) == ("negative", "nl", VERSION, True)
    assert -1 <= body["polarity"] < 0 and isinstance(body["aspects"], list)
    given = client.post(ANALYSE, json={"text": "Prima service", "language": "nl"}, headers=admin).json()
    assert (given["language"], given["label"]) == ("nl", "positive")


def test_the_analyse_endpoint_needs_an_admin_and_bounds_its_text(client: TestClient, admin: dict[str, str]) -> None:
    assert client.post(ANALYSE, json={"text": "Fine"}).status_code == 401
    too_long = client.post(ANALYSE, json={"text": "slecht " * 5000}, headers=admin)
    assert too_long.status_code in (413, 422)
    assert too_long.headers["content-type"].startswith("application/problem+json")
    bad = client.post(ANALYSE, json={"text": "Fine", "language": "english"}, headers=admin)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert client.post(ANALYSE, json={"language": "nl"}, headers=admin).status_code == 422
