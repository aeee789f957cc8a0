"""A fake Kiyoh publication API: a real HTTP server on 127.0.0.1, shaped like the documented one, with faults.

`GET /v1/publication/review/external?locationId=&limit=&orderBy=UPDATE_DATE&sortOrder=ASC&updatedSince=`
with `X-Publication-Api-Token` answers the location's reviews updated from `updatedSince` on, oldest first
(ties by reviewId), at most `limit`. A wrong token or location answers Kiyoh's error body. Faults are queued
with `fail(...)` and each is used up by one request:

    "429"   429 with Retry-After (`retry_after` seconds)      "slow"  the answer after `slow_seconds`
    "500"   500 with an error body                            "torn"  200 with half a JSON body
    "503"   503 with Retry-After                              "cut"   a body that stops before its length
    "ok"    no fault (to aim a later fault at a later request)

`truth()` is what the platform holds, in our words (id -> score, title, text, reply), for tests to compare
the store with. Every review is invented from the word lists below.

    python -m collectors.fakes.kiyoh --reviews 500     # serves until Ctrl-C, prints its URL and token
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collectors.fakes import serve_until_interrupted

PATH = "/v1/publication/review/external"
TITLES = ("Snel geleverd", "Prima service", "Mooie kwaliteit", "Net niet helemaal", "Te laat bezorgd", "Aanrader")
OPINIONS = (
    "De bank kwam op de afgesproken dag en de bezorgers waren vriendelijk.",
    "Het tafelblad had een kras, maar de klantenservice loste het binnen een week op.",
    "Goede prijs voor wat je krijgt; de montage-instructie kon duidelijker.",
    "Twee keer een nieuwe leverdatum gekregen, uiteindelijk wel tevreden met de stoelen.",
    "Stevige kast, precies de kleur van de foto.",
)
AUTHORS = ("Sanne", "Pieter", "Fatima", "Joost", "Anouk", "Mehmet", "Lotte", "Bram")
CITIES = ("Utrecht", "Zwolle", "Gent", "Breda", "Leiden")
REPLIES = ("Dank voor uw beoordeling!", "Fijn dat het is opgelost, excuses voor de kras.")


@dataclass
class FakeReview:
    """One review as the fake platform holds it."""

    review_id: str
    score: int  # DEFAULT_OVERALL, the rule's winner
    title: str
    text: str
    author: str
    created: datetime
    updated: datetime
    reply: str | None = None
    reference: str | None = None
    top_level: int | None = None  # a top-level `rating` that disagrees with DEFAULT_OVERALL, when set
    extras: list[dict[str, Any]] = field(default_factory=list)  # custom questions and IMAGE answers

    def as_kiyoh(self) -> dict[str, Any]:
        """The review in the publication API's shape."""
        content = [
            {"questionGroup": "DEFAULT_OVERALL", "questionType": "INT", "rating": str(self.score), "order": 0,
             "questionTranslation": "Totaalscore"},
            {"questionGroup": "DEFAULT_ONELINER", "questionType": "TEXT", "rating": self.title, "order": 1,
             "questionTranslation": "Beschrijf uw ervaring in een zin"},
            {"questionGroup": "DEFAULT_OPINION", "questionType": "TEXT", "rating": self.text, "order": 2,
             "questionTranslation": "Wat vond u goed of minder goed?"},
            {"questionGroup": "DEFAULT_RECOMMEND", "questionType": "BOOLEAN", "rating": str(self.score >= 6).lower(),
             "order": 3, "questionTranslation": "Zou u ons aanbevelen?"},
            *self.extras,
        ]  # fmt: skip
        stamp = "%Y-%m-%dT%H:%M:%S.%f"
        return {
            "reviewId": self.review_id,
            "reviewAuthor": self.author,
            "city": CITIES[len(self.author) % len(CITIES)],
            "rating": self.top_level if self.top_level is not None else self.score,
            "reviewComments": self.reply,
            "reviewContent": content,
            "dateSince": self.created.strftime(stamp)[:-3] + "+00:00",
            "updatedSince": self.updated.strftime(stamp)[:-3] + "+00:00",
            "referenceCode": self.reference,
            "reviewLanguage": "nl",
        }


class FakeKiyoh:
    """The fake platform: its reviews, its faults, its counters, and the server answering for them."""

    def __init__(self, token: str = "fake-kiyoh-token-0123456789", location_id: str = "1064321") -> None:
        self.token, self.location_id = token, location_id
        self.reviews: dict[str, FakeReview] = {}
        self.faults: deque[str] = deque()
        self.retry_after, self.slow_seconds = 1, 3.0
        self.delay = 0.0  # every answer waits this long (a sync that takes a while, to be killed midway)
        self.before_answer: Callable[[int], None] | None = None  # called with the request's number: edits mid-sync
        self.calls = 0
        self.clock = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # the platform's data

    def tick(self, seconds: float = 60) -> datetime:
        """Move the platform's clock on; what is written next gets this time."""
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def add(self, count: int, seed: int = 1, same_instant: int = 1) -> list[str]:
        """`count` invented reviews, `same_instant` at a time sharing one updatedSince; returns their ids."""
        rng = random.Random(seed)
        ids = []
        with self.lock:
            for n in range(count):
                if n % same_instant == 0:
                    self.tick(rng.randint(30, 3600))
                review_id = f"kv-{seed}-{len(self.reviews):05d}"
                score = rng.choice((1, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10))
                extras: list[dict[str, Any]] = []
                if n % 4 == 0:  # a question of the shop's own
                    delivery = str(rng.randint(1, 10))
                    extras.append(_answer("LEVERING", "INT", delivery, "Hoe was de levering?", 4))
                if n % 7 == 0:
                    extras.append(_answer("PHOTO", "IMAGE", f"https://img.example/{review_id}.jpg", "Foto", 5))
                self.reviews[review_id] = FakeReview(
                    review_id=review_id, score=score, title=rng.choice(TITLES), text=rng.choice(OPINIONS),
                    author=rng.choice(AUTHORS), created=self.clock - timedelta(hours=1), updated=self.clock,
                    reply=rng.choice(REPLIES) if n % 3 == 0 else None,
                    reference=f"ORD-{seed}-{n:05d}" if n % 2 == 0 else None,
                    top_level=max(1, score - 1) if n % 5 == 0 else None, extras=extras,
                )  # fmt: skip
                ids.append(review_id)
        return ids

    def edit(self, review_id: str, **changes: Any) -> None:
        """Change a review (score, title, text, reply...) as the platform would: its updatedSince moves on."""
        with self.lock:
            review = self.reviews[review_id]
            for name, value in changes.items():
                setattr(review, name, value)
            review.updated = self.tick(1)

    def truth(self) -> dict[str, dict[str, Any]]:
        """What the platform holds, in our words: id -> score (1-10), title, text, reply."""
        with self.lock:
            return {
                r.review_id: {"score": float(r.score), "title": r.title, "text": r.text, "reply": r.reply}
                for r in self.reviews.values()
            }

    def fail(self, *faults: str) -> None:
        """Queue faults: each of the next requests meets one (see the module docstring)."""
        self.faults.extend(faults)

    # the server

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1; returns the base URL (the account's `host`)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        """The base URL it serves on."""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> FakeKiyoh:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def answer(self, path: str, query: dict[str, list[str]], token: str | None) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one request (no fault applied)."""
        if path != PATH:
            return 404, _error(404, "NOT_FOUND", f"No endpoint {path}")
        if token != self.token:
            return 401, _error(401, "UNAUTHORIZED", "The publication API token is not valid for this location")
        location = (query.get("locationId") or [""])[0]
        if location != self.location_id:
            return 404, _error(404, "LOCATION_NOT_FOUND", f"No location with id {location}")
        try:
            limit = int((query.get("limit") or ["10"])[0])
            since_text = (query.get("updatedSince") or [""])[0]
            since = datetime.fromisoformat(since_text) if since_text else None
        except ValueError:
            return 400, _error(400, "INVALID_PARAMETER", "limit or updatedSince is not valid")
        with self.lock:
            found = sorted(
                (r for r in self.reviews.values() if since is None or r.updated >= since),
                key=lambda r: (r.updated, r.review_id),
            )[: max(1, limit)]
            body = {
                "locationId": self.location_id,
                "locationName": "Fake Meubels",
                "averageRating": round(sum(r.score for r in self.reviews.values()) / max(1, len(self.reviews)), 1),
                "numberReviews": len(self.reviews),
                "reviews": [r.as_kiyoh() for r in found],
            }
        return 200, body


def _answer(group: str, kind: str, value: str, question: str, order: int) -> dict[str, Any]:
    return {
        "questionGroup": group,
        "questionType": kind,
        "rating": value,
        "order": order,
        "questionTranslation": question,
    }


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"httpCode": status, "errorCode": code, "detailedError": [{"errorCode": code, "message": message}]}


def _handler(fake: FakeKiyoh) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet: the tests read the counters instead
            pass

        def do_GET(self) -> None:
            with fake.lock:
                fake.calls += 1
                number, fault = fake.calls, fake.faults.popleft() if fake.faults else None
            if fake.before_answer is not None:
                fake.before_answer(number)
            time.sleep(fake.slow_seconds if fault == "slow" else fake.delay)
            if fault in ("429", "500", "503"):
                status = int(fault)
                headers = {"Retry-After": str(fake.retry_after)} if status != 500 else {}
                return self._send(
                    status, _error(status, "BUSY" if status != 500 else "ERROR", "try again later"), headers
                )
            parts = urlsplit(self.path)
            status, body = fake.answer(parts.path, parse_qs(parts.query), self.headers.get("X-Publication-Api-Token"))
            self._send(status, body, {}, fault)

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str], fault: str | None = None) -> None:
            data = json.dumps(body).encode()
            sent = data[: len(data) // 2] if fault in ("torn", "cut") else data
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) if fault == "cut" else len(sent)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(sent)
            if fault == "cut":
                self.close_connection = True

    return Handler


def main() -> None:
    """Serve a fake Kiyoh with invented reviews until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=200)
    args = parser.parse_args()
    fake = FakeKiyoh()
    fake.add(args.reviews)
    serve_until_interrupted(
        f"KIYOH_API_URL={fake.start()} KIYOH_API_TOKEN={fake.token} location_id={fake.location_id}", fake.stop
    )


if __name__ == "__main__":
    main()
