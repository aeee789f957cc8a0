"""Liveness (`/health`: the process answers) and readiness (`/ready`: it can do its work, or why not)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reviews_service import __version__, readiness, store
from reviews_service.api.deps import NowDep, json_response, settings_dep, state_dep
from reviews_service.api.openapi import JSON, answers

router = APIRouter(tags=["health"])


@router.get("/health", **answers(JSON))
def health() -> Response:
    """Liveness: `status` ok, the version and which store the service uses (the store itself is not asked)."""
    info = store.current()
    return json_response(
        {
            "status": "ok" if info else "starting",
            "version": __version__,
            "store": None if info is None else ("embedded" if info.embedded else "mongodb"),
            "persistent": None if info is None else info.persistent,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/ready", **answers(JSON, 503))
async def ready(request: Request, now: NowDep) -> Response:
    """Readiness: 200 when the store answers a trivial read within 2 s and a scheduler beats; else 503 and why."""
    # Nothing here takes a thread of the request pool (no sync dependency, no run_in_threadpool): requests stuck on
    # a stalled store can hold every one of them, and /ready must still answer within the probe's bound.
    settings, state = settings_dep(request), state_dep(request)
    probe: readiness.Probe = request.app.state.ready_probe
    try:
        found = await probe.wait(lambda: readiness.check(settings, state.store_health, now))
    except Exception as exc:  # a check that broke is a failed check, with its reason
        found = readiness.broken(settings, exc)
    if found is None:  # no answer to one trivial read in time: public reads stop waiting for the store too
        found = readiness.timed_out(settings, probe.seconds)
        state.store_health.failed(found["store"]["error"])
    checks = found
    outage = state.store_health.down()
    if outage is not None and checks["store"].get("ok"):  # the read worked; the poller's looks say otherwise
        checks["store"] = {"ok": False, "error": outage.reason}
    if outage is not None:
        checks["store"]["down_for_seconds"] = round(outage.seconds, 1)
    ok = all(check.get("ok") for check in checks.values())
    headers = {"Cache-Control": "no-store"} | ({} if ok else {"Retry-After": "5"})
    return json_response({"status": "ready" if ok else "not-ready", "checks": checks}, 200 if ok else 503, headers)
