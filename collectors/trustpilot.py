"""Trustpilot, on its public API: service reviews, product reviews and the platform's own score.

Sync. The public reviews endpoint has no "since", so a sync pages newest first (`orderBy=createdat.desc`,
100 a page) and stops after a page that lies wholly before the high-water mark minus an overlap (reviews
published late keep an older createdAt). The checkpoint is saved after every page: a crash resumes at the
next page, and a page read twice counts once (ingest is idempotent). New reviews arriving while it pages push
others down (read twice, harmless); one deleted meanwhile can pull one up past us: the overlap of the next sync
and the full resync catch it. The first sync reads everything; then every `full_every_hours` (default 24) a
full resync pages to the end and marks what Trustpilot no longer has as removed at the source (kept, out of
the summaries). An interrupted full resync starts over (it needs all ids seen in one pass).

Config (`sources.trustpilot` of a unit): `business_unit_id` or `domain` (looked up once with
`business-units/find`, the id kept in the checkpoint), `every_minutes`, optional `overlap_hours` (24),
`full_every_hours` (24), `products` (true: the catalogue's skus), `hook_secret` (else derived, see hooks).
Trustpilot's trustScore, stars and review count are kept in the checkpoint as `trustpilot_says`.

With TRUSTPILOT_API_SECRET set (and `private` not false), an incremental sync asks the private endpoint for the
reviews created since the floor instead (`startDateTime`, oldest first), with an OAuth client-credentials token
kept in the ServiceState's AccessTokens and reused until it expires. Full resyncs stay on the public endpoint.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from collectors import trustpilot_parse as tp
from collectors.base import CollectReport, Run
from collectors.http import PROBE_BACKOFF, PROBE_TIMEOUTS, Backoff, RateLimiter, Timeouts, make_client, request_json
from reviews_service import domain, repository, source_store
from reviews_service.config import Settings
from reviews_service.errors import CredentialsMissing, SourceConfigError, SourceError

if TYPE_CHECKING:
    from reviews_service.state import ServiceState

NAME = "trustpilot"
PER_PAGE = 100
SKUS_PER_CALL = 20  # product reviews for up to this many skus in one call (keeps the URL short)
BUDGET = [(833, 300.0), (10_000, 3600.0)]  # calls per window, per API key, shared by every unit using it
REFUSED = "the Trustpilot API key was refused; check TRUSTPILOT_API_KEY"
TOKEN_PATH = "/oauth/oauth-business-users-for-applications/accesstoken"  # client credentials -> bearer token


def _as_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def record_of(review: domain.Review, status: str) -> dict[str, Any]:
    """A stored review as a loose record again, with a new status (a removal goes through ingest too)."""
    return {
        "source": review.source, "external_id": review.external_id, "rating": review.rating, "title": review.title,
        "text": review.text, "author": review.author, "created_at": review.created_at, "language": review.language,
        "product": review.product, "verified": review.verified, "email": review.email, "order_ref": review.order_ref,
        "status": status, "reply": review.reply, "replied_at": review.replied_at,
    }  # fmt: skip


class _Api:
    """The calls this collector makes, each through collectors.http."""

    def __init__(self, client: httpx.Client, limiter: RateLimiter, run: Run, timeouts: Timeouts, backoff: Backoff):
        self.client, self.limiter, self.run, self.timeouts, self.backoff = client, limiter, run, timeouts, backoff

    def get(self, path: str, params: Mapping[str, Any] | None = None, not_found: str | None = None,
            private: bool = False) -> Any:  # fmt: skip
        """GET a path; `private` adds the OAuth bearer token (fetched once, reused until it expires)."""
        if not private:
            return self._call("GET", path, params=params, not_found=not_found)
        bearer = self._bearer()  # a refused key and secret fail here, once
        try:
            return self._call("GET", path, params=params, headers=bearer)
        except SourceConfigError:  # a kept token refused before its time: one new token, one more try
            self.run.state.access_tokens.forget(NAME, self._key())
            return self._call("GET", path, params=params, headers=self._bearer())

    def _call(self, method: str, path: str, **options: Any) -> Any:
        return request_json(
            self.client, method, path, limiter=self.limiter, report=self.run.report, what="Trustpilot",
            refused=options.pop("refused", REFUSED), timeouts=self.timeouts, backoff=self.backoff, **options,
        )  # fmt: skip

    def _key(self) -> str:
        settings = self.run.settings
        assert settings.trustpilot_api_key is not None and settings.trustpilot_api_secret is not None
        return f"{settings.trustpilot_api_key.get_secret_value()}:{settings.trustpilot_api_secret.get_secret_value()}"

    def _bearer(self) -> dict[str, str]:
        def fetch() -> tuple[str, float]:
            basic = base64.b64encode(self._key().encode()).decode()
            answer = self._call(
                "POST", TOKEN_PATH, data={"grant_type": "client_credentials"},
                headers={"authorization": f"Basic {basic}"},
                refused="Trustpilot refused the key and secret; check TRUSTPILOT_API_KEY and TRUSTPILOT_API_SECRET",
            )  # fmt: skip
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise SourceError("Trustpilot's token answer has no access_token")
            lives = answer.get("expires_in")
            return token, float(lives) if isinstance(lives, int | float | str) and str(lives).isdigit() else 3600.0

        return {"authorization": f"Bearer {self.run.state.access_tokens.get(NAME, self._key(), fetch)}"}


class TrustpilotCollector:
    """Trustpilot's service and product reviews for one business unit (see the module docstring)."""

    name = NAME

    def __init__(
        self, *, timeouts: Timeouts = Timeouts(), backoff: Backoff = Backoff(), budget: list[tuple[int, float]] = BUDGET
    ) -> None:
        self.timeouts = timeouts
        self.backoff = backoff
        self.budget = budget

    def check_config(self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings) -> None:
        """Refuse, with what to do, a configuration that cannot work (before any call is made)."""
        ident, host = config.get("business_unit_id"), config.get("domain") or unit.domain
        if not (isinstance(ident, str) and ident.strip()) and not (isinstance(host, str) and host.strip()):
            raise SourceConfigError(
                f'{unit.slug}\'s trustpilot source needs `business_unit_id` or `domain` (e.g. {{"domain": '
                f'"shop.example"}}), and the unit has no domain either'
            )
        for key in ("every_minutes", "overlap_hours", "full_every_hours"):
            value = config.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
                raise SourceConfigError(f"trustpilot.{key} must be a positive number, not {value!r}")
        if settings.trustpilot_api_key is None or not settings.trustpilot_api_key.get_secret_value().strip():
            raise CredentialsMissing("TRUSTPILOT_API_KEY is not set; Trustpilot's API needs a key (apikey header)")

    def probe(
        self, unit: domain.BusinessUnit, config: Mapping[str, Any], settings: Settings, state: ServiceState
    ) -> dict[str, Any]:
        """One call: the configured id (`business-units/{id}`), else the domain (`business-units/find`), whose
        id is returned to keep in the checkpoint (the first sync then need not look it up again)."""
        assert settings.trustpilot_api_key is not None  # check_config ran
        key = settings.trustpilot_api_key.get_secret_value()
        report = CollectReport(business_unit=unit.slug, source=NAME)
        options: dict[str, Any] = {
            "limiter": state.rate_limits.get(NAME, key, self.budget), "report": report, "what": "Trustpilot",
            "refused": REFUSED, "timeouts": PROBE_TIMEOUTS, "backoff": PROBE_BACKOFF,
        }  # fmt: skip
        base = settings.trustpilot_api_url.rstrip("/")
        with make_client(base_url=base, headers={"apikey": key}, timeouts=PROBE_TIMEOUTS) as client:
            configured = config.get("business_unit_id")
            if isinstance(configured, str) and configured.strip():
                ident = configured.strip()
                request_json(client, "GET", f"/business-units/{ident}", not_found=self._unknown_id(ident), **options)
                return {}
            host = self._host(unit, config)
            found = request_json(client, "GET", "/business-units/find", params={"name": host},
                                 not_found=self._unknown_domain(host), **options)  # fmt: skip
            return {"business_unit_id": self._found_id(found, host), "found_for": host}

    def collect(self, run: Run) -> None:
        """One sync: the unit's id and score, then service reviews, then product reviews."""
        assert run.settings.trustpilot_api_key is not None
        key = run.settings.trustpilot_api_key.get_secret_value()
        limiter = run.state.rate_limits.get(NAME, key, self.budget)
        base = run.settings.trustpilot_api_url.rstrip("/")
        with make_client(base_url=base, headers={"apikey": key}, timeouts=self.timeouts) as client:
            api = _Api(client, limiter, run, self.timeouts, self.backoff)
            checkpoint = dict(run.checkpoint())
            bu_id = self._business_unit_id(run, api, checkpoint)
            score = tp.business_unit_score(api.get(f"/business-units/{bu_id}", not_found=self._unknown_id(bu_id)))
            checkpoint["trustpilot_says"] = {**score, "fetched_at": run.now().isoformat()}
            full = self._full_due(run, checkpoint)
            checkpoint["sync"] = self._resumed(checkpoint, full, run)
            run.save_checkpoint(checkpoint)
            seen: set[str] = set()
            if checkpoint["sync"]["phase"] == "service":
                self._service_reviews(run, api, bu_id, checkpoint, seen)
            skus = sorted(repository.catalogue(run.unit.slug)) if run.config.get("products", True) else []
            self._product_reviews(run, api, bu_id, checkpoint, seen, skus)
            sync = checkpoint.pop("sync")
            newest = max(filter(None, [_as_time(checkpoint.get("high_water")), _as_time(sync.get("newest"))]),
                         default=None)  # fmt: skip
            checkpoint["high_water"] = newest.isoformat() if newest else None
            if sync["full"]:
                run.report.removed += self._mark_removed(run, seen, set(skus))
            if sync["full"] or sync.get("floor") is None:  # everything was read in this pass
                checkpoint["last_full_at"] = run.now().isoformat()
            run.save_checkpoint(checkpoint)

    def _business_unit_id(self, run: Run, api: _Api, checkpoint: dict[str, Any]) -> str:
        configured = run.config.get("business_unit_id")
        if isinstance(configured, str) and configured.strip():
            return configured.strip()
        host = self._host(run.unit, run.config)
        if checkpoint.get("found_for") == host and checkpoint.get("business_unit_id"):
            return str(checkpoint["business_unit_id"])
        found = api.get("/business-units/find", {"name": host}, not_found=self._unknown_domain(host))
        ident = self._found_id(found, host)
        checkpoint.update(business_unit_id=ident, found_for=host)
        return ident

    @staticmethod
    def _host(unit: domain.BusinessUnit, config: Mapping[str, Any]) -> str:
        return str(config.get("domain") or unit.domain).strip().lower()

    @staticmethod
    def _unknown_domain(host: str) -> str:
        return (
            f"Trustpilot knows no business unit for the domain {host!r}; check trustpilot.domain "
            f"(as on trustpilot.com/review/DOMAIN) or set trustpilot.business_unit_id"
        )

    @staticmethod
    def _found_id(found: Any, host: str) -> str:
        ident = found.get("id") if isinstance(found, dict) else None
        if not isinstance(ident, str) or not ident:
            raise SourceConfigError(f"Trustpilot's answer for the domain {host!r} has no business unit id")
        return ident

    @staticmethod
    def _unknown_id(bu_id: str) -> str:
        return f"Trustpilot knows no business unit with the id {bu_id!r}; check trustpilot.business_unit_id"

    @staticmethod
    def _full_due(run: Run, checkpoint: Mapping[str, Any]) -> bool:
        if run.full:
            return True
        last_full = _as_time(checkpoint.get("last_full_at"))
        every = float(run.config.get("full_every_hours") or 24)
        return last_full is not None and run.now() - last_full >= timedelta(hours=every)

    @staticmethod
    def _resumed(checkpoint: Mapping[str, Any], full: bool, run: Run) -> dict[str, Any]:
        """The sync to run: an interrupted incremental one goes on where it was; anything else starts anew."""
        sync = checkpoint.get("sync")
        if isinstance(sync, dict) and not sync.get("full") and not full:
            return sync
        high = _as_time(checkpoint.get("high_water"))
        overlap = timedelta(hours=float(run.config.get("overlap_hours") or 24))
        floor = None if full or high is None else (high - overlap).isoformat()
        # With a secret, an incremental sync asks the private endpoint for what was created since the floor.
        private = (
            floor is not None and run.settings.trustpilot_api_secret is not None and run.config.get("private", True)
        )
        sync = {"full": full, "phase": "service", "page": 1, "batch": 0, "newest": None, "floor": floor}
        return {**sync, "private": bool(private)}

    def _pages(self, run: Run, api: _Api, path: str, params: dict[str, Any], sync: dict[str, Any],
               checkpoint: dict[str, Any], sku: str | None = None) -> Iterator[list[dict[str, Any]]]:  # fmt: skip
        """Each page's records from `sync["page"]` on, the checkpoint saved after the caller has stored them."""
        private = path.startswith("/private/")
        while True:
            payload = api.get(path, {**params, "page": sync["page"], "perPage": PER_PAGE}, private=private)
            records = tp.parse(payload, sku=sku)
            run.report.pages += 1
            run.report.fetched += len(records)
            yield records
            following = tp.next_page(payload)
            times = tp.created_times(records)
            if times and (sync["newest"] is None or max(times) > datetime.fromisoformat(sync["newest"])):
                sync["newest"] = max(times).isoformat()
            sync["page"] = following or sync["page"] + 1
            run.save_checkpoint(checkpoint)  # after the page is stored: a crash re-reads at most this page
            run.progress(run.report.fetched, None)
            if not records or following is None:
                return
            floor = _as_time(sync.get("floor")) if sku is None and not private else None  # private: oldest first
            if floor is not None and times and max(times) < floor:
                return

    def _service_reviews(self, run: Run, api: _Api, bu_id: str, checkpoint: dict[str, Any], seen: set[str]) -> None:
        sync = checkpoint["sync"]
        path, params = f"/business-units/{bu_id}/reviews", {"orderBy": "createdat.desc"}
        if sync.get("private"):
            path, params = f"/private{path}", {"orderBy": "createdat.asc", "startDateTime": sync["floor"]}
        for records in self._pages(run, api, path, params, sync, checkpoint):
            seen.update(str(r["external_id"]) for r in records if r.get("external_id"))
            run.ingest(records)
        sync.update(phase="products", page=1, batch=0)
        run.save_checkpoint(checkpoint)

    def _product_reviews(self, run: Run, api: _Api, bu_id: str, checkpoint: dict[str, Any], seen: set[str],
                         skus: list[str]) -> None:  # fmt: skip
        sync = checkpoint["sync"]
        path = f"/product-reviews/business-units/{bu_id}/reviews"
        batches = [skus[i : i + SKUS_PER_CALL] for i in range(0, len(skus), SKUS_PER_CALL)]
        while sync["batch"] < len(batches):
            batch = ",".join(batches[sync["batch"]])
            for records in self._pages(run, api, path, {"sku": batch}, sync, checkpoint, sku=batch):
                seen.update(str(r["external_id"]) for r in records if r.get("external_id"))
                run.ingest(records)
            sync.update(batch=sync["batch"] + 1, page=1)
            run.save_checkpoint(checkpoint)

    @staticmethod
    def _mark_removed(run: Run, seen: set[str], skus: set[str]) -> int:
        """Reviews stored from Trustpilot that it no longer has: kept, marked removed, out of the summaries."""
        gone = [
            record_of(review, "removed")
            for review in source_store.source_reviews(run.unit.slug, NAME)
            if review.external_id not in seen and review.status != "removed"
            and (review.product is None or review.product in skus)
        ]  # fmt: skip
        if gone:
            run.ingest(gone)
        return len(gone)
