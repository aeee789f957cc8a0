"""A fake Trustpilot: a real HTTP server on 127.0.0.1, shaped like the public API, with switchable faults.

It holds a "truth" of service and product reviews (invented texts) and answers `business-units/find`,
`business-units/{id}`, `business-units/{id}/reviews` (newest first, `links` with rel `next-page`, a page past
the end empty) and `product-reviews/business-units/{id}/reviews?sku=`. `faults` switches on, for the next
N review-page calls: 429 with Retry-After, 500/503 bursts, answers slower than a timeout, torn JSON bodies; a
random share of failing calls (the benchmark); reviews inserted or deleted while a sync pages (a review then
moves between pages); a wrong key is simply a key other than `api_key` (401). Used by tests, bench/collect.py
and the demo; every request is logged in `requests` (path and query) so tests can count calls.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from collectors.fakes import serve_until_interrupted

DELAY = "x-fake-delay"
WORDS = {
    "what": ["parcel", "order", "sofa", "chair", "lamp", "delivery", "refund", "table", "cushion", "rug"],
    "how": ["came early", "came a day late", "was well packed", "arrived damaged", "was exactly as shown"],
    "verdict": ["Would order again.", "Support was quick to help.", "Not great, not awful.", "Five stars from me."],
}


@dataclass
class FakeReview:
    """One review in the fake's truth (service review when `sku` is None)."""

    id: str
    stars: int
    title: str
    text: str
    created_at: datetime
    author: str
    language: str = "en"
    verified: bool = True
    reply: str | None = None
    replied_at: datetime | None = None
    sku: str | None = None
    updated_at: datetime | None = None


@dataclass
class Faults:
    """What goes wrong, counted down per review-page call (0 = off)."""

    rate_limited: int = 0  # answer 429 with `retry_after`
    retry_after: str = "1"
    errors: int = 0  # answer 500 and 503 alternately
    slow: int = 0  # answer after `slow_seconds`
    slow_seconds: float = 2.0
    torn: int = 0  # answer half a JSON body
    fail_share: float = 0.0  # this share of every call answers 500 (seeded, for the benchmark)
    insert_after_page: int | None = None  # after serving this page, `shift` new reviews arrive on top
    delete_after_page: int | None = None  # after serving this page, `shift` reviews already served vanish
    shift: int = 1
    hold_after_page: int | None = None  # the next page waits for `release` (something happens mid-sync)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeTrustpilot:
    """The server and its truth; `with FakeTrustpilot() as fake:` starts and stops it."""

    api_key: str = "fake-trustpilot-key"
    api_secret: str = "fake-trustpilot-secret"  # the private API's OAuth client credentials are key + secret
    token_seconds: float = 3600.0
    business_unit_id: str = "5f0c0ffee0000000000000aa"
    domain: str = "shop.example"
    reviews: dict[str, FakeReview] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    requests: list[str] = field(default_factory=list)
    seed: int = 7

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._random = random.Random(self.seed)
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self.tokens: dict[str, float] = {}  # access token -> when it expires (monotonic)

    # the truth

    def add(self, count: int, *, newest: datetime, step: timedelta = timedelta(minutes=7), sku: str | None = None,
            reply_every: int = 5) -> list[FakeReview]:  # fmt: skip
        """`count` new invented reviews, the newest at `newest`, each `step` older than the one before."""
        made = []
        with self._lock:
            for i in range(count):
                self._counter += 1
                n = self._counter
                r = self._random
                created = newest - step * i
                review = FakeReview(
                    id=f"{'p' if sku else 's'}{n:07d}{r.randrange(16**6):06x}",
                    stars=r.choice([1, 2, 3, 4, 4, 5, 5, 5]),
                    # product reviews have no title on Trustpilot
                    title="" if sku else f"{r.choice(WORDS['what']).capitalize()} {r.choice(WORDS['how'])}",
                    text=f"The {r.choice(WORDS['what'])} {r.choice(WORDS['how'])}. {r.choice(WORDS['verdict'])} #{n}",
                    created_at=created,
                    author=f"Tester {n}",
                    language=r.choice(["en", "nl", "de"]),
                    verified=n % 3 != 0,
                    reply=f"Thank you for review {n}." if reply_every and n % reply_every == 0 else None,
                    replied_at=created + timedelta(hours=2) if reply_every and n % reply_every == 0 else None,
                    sku=sku,
                )
                self.reviews[review.id] = review
                made.append(review)
        return made

    def edit(self, review_id: str, **changes: Any) -> None:
        """Change a review in the truth (an edit on the platform)."""
        with self._lock:
            review = self.reviews[review_id]
            for name, value in changes.items():
                setattr(review, name, value)
            review.updated_at = datetime.now(UTC)

    def delete(self, review_id: str) -> None:
        """Take a review out of the truth (deleted on the platform)."""
        with self._lock:
            del self.reviews[review_id]

    def ordered(self, sku: str | None = None, skus: set[str] | None = None) -> list[FakeReview]:
        """Service reviews (or those of `skus`) newest first, as the API pages them."""
        with self._lock:
            chosen = [r for r in self.reviews.values() if (r.sku in skus if skus else r.sku is None)]
        return sorted(chosen, key=lambda r: (r.created_at, r.id), reverse=True)

    # the API's shapes

    def review_json(self, review: FakeReview) -> dict[str, Any]:
        """A service review as the public API sends it."""
        iso = _iso
        reply = None
        if review.reply is not None:
            reply = {"text": review.reply, "createdAt": iso(review.replied_at), "updatedAt": None}
        return {
            "id": review.id,
            "consumer": {"id": f"c-{review.id}", "displayName": review.author, "numberOfReviews": 1},
            "businessUnit": {"id": self.business_unit_id, "identifyingName": self.domain},
            "stars": review.stars,
            "title": review.title,
            "text": review.text,
            "language": review.language,
            "createdAt": iso(review.created_at),
            "updatedAt": iso(review.updated_at),
            "experiencedAt": iso(review.created_at - timedelta(days=3)),
            "isVerified": review.verified,
            "numberOfLikes": 0,
            "status": "active",
            "countsTowardsTrustScore": True,
            "companyReply": reply,
            "links": [{"href": f"{self.url}/reviews/{review.id}", "method": "GET", "rel": "reviews"}],
        }

    def product_review_json(self, review: FakeReview) -> dict[str, Any]:
        """A product review as the product-reviews API sends it (`content`, `consumer.displayName`, `product`)."""
        return {
            "id": review.id,
            "createdAt": _iso(review.created_at),
            "stars": review.stars,
            "content": review.text,
            "consumer": {"id": f"c-{review.id}", "displayName": review.author},
            "language": review.language,
            "product": {"sku": review.sku, "name": f"Product {review.sku}"},
            "attachments": [],
            "firstCompanyComment": (
                {"comment": review.reply, "createdAt": _iso(review.replied_at)} if review.reply else None
            ),
        }

    def event(self, name: str, review: FakeReview) -> dict[str, Any]:
        """A webhook body as Trustpilot pushes it for this review."""
        data = self.product_review_json(review) if review.sku else self.review_json(review)
        return {"events": [{"eventName": name, "version": "v1", "eventData": data}]}

    # the server

    @property
    def url(self) -> str:
        """The API's base URL (TRUSTPILOT_API_URL), e.g. http://127.0.0.1:PORT/v1."""
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self, port: int = 0) -> FakeTrustpilot:
        """Serve on 127.0.0.1 (a free port unless given), in a daemon thread."""
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-trustpilot").start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeTrustpilot:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def calls(self, fragment: str = "") -> int:
        """How many requests were made (whose path contains `fragment`)."""
        return sum(1 for r in self.requests if fragment in r)

    def grant(self, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        """POST .../accesstoken: client credentials (Basic key:secret) -> a bearer token for the private API."""
        with self._lock:
            self.requests.append("/v1/oauth/oauth-business-users-for-applications/accesstoken")
            expected = "Basic " + base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
            if authorization != expected:
                return _json(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
            token = f"tok-{len(self.tokens) + 1}-{self._random.randrange(16**8):08x}"
            self.tokens[token] = time.monotonic() + self.token_seconds
            return _json(
                200, {"access_token": token, "token_type": "Bearer", "expires_in": str(int(self.token_seconds))}
            )

    def answer(
        self, path: str, query: dict[str, str], api_key: str | None, authorization: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body for one GET (the HTTP handler only writes them)."""
        with self._lock:
            self.requests.append(f"{path}?{urlencode(query)}")
            if path.startswith("/v1/private/"):
                token = (authorization or "").removeprefix("Bearer ")
                if self.tokens.get(token, 0.0) < time.monotonic():
                    return _json(401, {"message": "Unauthorized: invalid or expired access token"})
                if path == f"/v1/private/business-units/{self.business_unit_id}/reviews":
                    since = datetime.fromisoformat(
                        query.get("startDateTime", "1970-01-01T00:00:00Z").replace("Z", "+00:00")
                    )
                    chosen = [r for r in reversed(self.ordered()) if r.created_at >= since]  # oldest first
                    return self._page(path, query, chosen, self.review_json, "reviews")
                return _json(404, {"message": "Not found"})
            if api_key != self.api_key:
                return _json(401, {"message": "Invalid ApiKey", "errorCode": "Unauthorized"})
            if self.faults.fail_share and self._random.random() < self.faults.fail_share:
                return _json(500, {"message": "Internal error"})
            base = "/v1/business-units/"
            if path == "/v1/business-units/find":
                if query.get("name", "").lower() not in (self.domain, f"www.{self.domain}"):
                    return _json(404, {"message": "Business unit not found"})
                return _json(200, {"id": self.business_unit_id, "displayName": "Fake Shop",
                                   "name": {"identifying": self.domain, "referring": [self.domain]}})  # fmt: skip
            if path == f"{base}{self.business_unit_id}":
                return _json(200, self._business_unit())
            if path == f"{base}{self.business_unit_id}/reviews":
                return self._page(path, query, self.ordered(), self.review_json, "reviews")
            if path == f"/v1/product-reviews/business-units/{self.business_unit_id}/reviews":
                skus = {s for s in query.get("sku", "").split(",") if s}
                return self._page(path, query, self.ordered(skus=skus), self.product_review_json, "productReviews")
            return _json(404, {"message": "Not found"})

    def _business_unit(self) -> dict[str, Any]:
        service = self.ordered()
        stars = sum(r.stars for r in service) / len(service) if service else 0.0
        names = ["oneStar", "twoStars", "threeStars", "fourStars", "fiveStars"]
        counts = {name: sum(1 for r in service if r.stars == n) for n, name in enumerate(names, 1)}
        return {
            "id": self.business_unit_id,
            "displayName": "Fake Shop",
            "name": {"identifying": self.domain, "referring": [self.domain]},
            "score": {"trustScore": round(stars - 0.2, 1) if service else 0.0, "stars": round(stars * 2) / 2},
            "numberOfReviews": {"total": len(service), "usedForTrustScoreCalculation": len(service), **counts},
        }

    def _page(
        self, path: str, query: dict[str, str], ordered: list[FakeReview], shape: Any, key: str, faulty: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        faults = self.faults
        for name in ("rate_limited", "errors", "slow", "torn"):
            if faulty and getattr(faults, name) > 0:
                setattr(faults, name, getattr(faults, name) - 1)
                if name == "rate_limited":
                    return _json(429, {"message": "Too many requests"}, {"retry-after": faults.retry_after})
                if name == "errors":
                    return _json(500 if faults.errors % 2 else 503, {"message": "Service unavailable"})
                status, headers, body = self._page(path, query, ordered, shape, key, faulty=False)
                if name == "slow":  # the handler sleeps this long before it answers
                    return status, {**headers, DELAY: str(faults.slow_seconds)}, body
                return status, headers, body[: len(body) // 2]
        page, per_page = max(1, int(query.get("page") or 1)), min(100, max(1, int(query.get("perPage") or 20)))
        items = ordered[(page - 1) * per_page : page * per_page]
        links = [{"href": f"{self.url.removesuffix('/v1')}{path}?{urlencode({**query, 'page': page})}",
                  "method": "GET", "rel": "self"}]  # fmt: skip
        if page * per_page < len(ordered):
            href = f"{self.url.removesuffix('/v1')}{path}?{urlencode({**query, 'page': page + 1})}"
            links.append({"href": href, "method": "GET", "rel": "next-page"})
        answer = _json(200, {key: [shape(r) for r in items], "links": links})
        self._shift_after(page, items)
        return answer

    def _shift_after(self, page: int, served: list[FakeReview]) -> None:
        """Between two page calls, reviews arrive on top or vanish from pages already served."""
        faults = self.faults
        if faults.insert_after_page == page and served:
            faults.insert_after_page = None
            newest = max(r.created_at for r in self.reviews.values())
            self.add(faults.shift, newest=newest + timedelta(minutes=faults.shift + 1), sku=served[0].sku)
        if faults.delete_after_page == page and served:
            faults.delete_after_page = None
            for review in served[: faults.shift]:
                self.delete(review.id)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTrustpilot
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        faults = self.owner.faults
        if faults.hold_after_page is not None and int(query.get("page") or 1) == faults.hold_after_page + 1:
            faults.release.wait(timeout=30)
        status, headers, body = self.owner.answer(
            url.path, query, self.headers.get("apikey"), self.headers.get("authorization")
        )
        if DELAY in headers:  # slower than the client's timeout (which by then has given up on this answer)
            time.sleep(float(headers.pop(DELAY)))
        self.send_response(status)
        for name, value in {**headers, "content-length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout): fine
            self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))  # grant_type=client_credentials
        if urlsplit(self.path).path == "/v1/oauth/oauth-business-users-for-applications/accesstoken":
            status, headers, body = self.owner.grant(self.headers.get("authorization"))
        else:
            status, headers, body = _json(404, {"message": "Not found"})
        self.send_response(status)
        for name, value in {**headers, "content-length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:  # quiet: tests and the bench print their own
        pass


def main() -> None:
    """Serve a fake Trustpilot with invented reviews until interrupted (for trying `reviews collect trustpilot`)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviews", type=int, default=500)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args()
    fake = FakeTrustpilot()
    fake.add(args.reviews, newest=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    fake.start(port=args.port)
    serve_until_interrupted(
        f"TRUSTPILOT_API_URL={fake.url} TRUSTPILOT_API_KEY={fake.api_key} domain={fake.domain}", fake.stop
    )


if __name__ == "__main__":
    main()
