"""The `reviews scheduler` and `reviews collect` commands (kept apart from cli.py for size)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from reviews_service.config import Settings
from reviews_service.errors import Busy, ReviewsError, SourceConfigError, SourceError

if TYPE_CHECKING:
    from reviews_service.collection import Registry
    from reviews_service.state import ServiceState

COLLECT_EPILOG = """exit status: 0 when every run worked; 1 when some records were rejected (the others are stored);
2 when a run failed or could not start (an unknown source or unit, a refused key, a platform that kept failing,
the source being collected by the scheduler right now): the message says which, and the source's state at
GET /v1/admin/business-units/{bu}/sources records it."""


def registry_of(args: argparse.Namespace) -> Registry:
    """The collectors a command uses: collectors.registry.REGISTRY unless main() was handed another (tests)."""
    given: Registry | None = getattr(args, "registry", None)
    if given is not None:
        return given
    from collectors.registry import REGISTRY

    return REGISTRY


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """Run the periodic jobs until interrupted."""
    from reviews_service import jobs, logs
    from reviews_service.cli import persistent_store
    from reviews_service.poller import ChangePoller

    logs.configure(logs.format_for(settings.log_format, settings.env))
    state = persistent_store(
        settings, "run the scheduler on its own", " (`reviews serve` runs it in-process when embedded)"
    )
    poller = ChangePoller(state.changes)  # the jobs read through the same caches as the API: keep them as fresh
    poller.start()
    try:
        jobs.run_forever(jobs.build_scheduler(settings, state, registry_of(args)), threading.Event())
    finally:
        poller.stop()
    return 0


def cmd_collect(args: argparse.Namespace, settings: Settings) -> int:
    """One run of one collector for one unit (or every unit that has it configured), with a progress bar."""
    from reviews_service import repository
    from reviews_service.cli import persistent_store

    state = persistent_store(
        settings,
        f"collect {args.source}",
        " (on a running service use POST /v1/admin/business-units/BU/collect/SOURCE)",
    )
    registry = registry_of(args)
    if args.source not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise SourceConfigError(f"unknown source {args.source!r}; known sources: {known}")
    if args.business_unit:
        units = [args.business_unit]
    else:
        units = [u.slug for u in repository.list_business_units() if args.source in u.sources]
        if not units:
            raise SourceConfigError(
                f"no business unit has a {args.source!r} source configured; add one to a unit's `sources` "
                f"(POST /v1/admin/business-units) or name the unit with -b"
            )
    worst = 0
    for slug in units:
        worst = max(worst, _collect_one(args, settings, state, registry, slug))
    return worst


def _collect_one(
    args: argparse.Namespace, settings: Settings, state: ServiceState, registry: Registry, slug: str
) -> int:
    from tqdm import tqdm

    from reviews_service.collection import run_source
    from reviews_service.leases import owner_id

    with tqdm(unit="review", desc=f"{slug} {args.source}", file=sys.stderr) as bar:

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = run_source(
                state, settings, registry, slug, args.source, owner=owner_id("cli"), full=args.full, progress=progress
            )
        except (SourceError, Busy) as exc:
            bar.close()
            print(f"reviews: {slug} {args.source}: {exc.detail}", file=sys.stderr)
            return 2
        except ReviewsError as exc:  # an unknown business unit
            bar.close()
            print(f"reviews: {exc.detail}", file=sys.stderr)
            return 2
    result = report.as_dict()
    rejected = result.pop("rejected")
    print(json.dumps(result))  # one JSON line per unit (it names the unit and source): scripts read it
    for item in rejected[:20]:
        print(f"  rejected record {item['index']}: {item['reason']}", file=sys.stderr)
    return 1 if rejected else 0


def cmd_rescore(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute the sentiment of reviews an older analyser scored (or of all), with a progress bar."""
    from tqdm import tqdm

    from reviews_service import repository, rescore
    from reviews_service.cli import persistent_store

    state = persistent_store(settings, "rescore reviews")
    if args.business_unit is not None:
        try:
            repository.get_business_unit(state, args.business_unit)
        except ReviewsError as exc:
            print(f"reviews: {exc.detail}", file=sys.stderr)
            return 2
    total = rescore.to_do(args.business_unit, args.all)
    with tqdm(total=total, unit="review", desc="rescoring", file=sys.stderr) as bar:
        report = rescore.rescore(args.business_unit, everything=args.all, progress=bar.update)
    print(json.dumps(report.as_dict()))
    return 0


def add_commands(command: Callable[..., argparse.ArgumentParser], bu_help: str, store_note: str) -> None:
    """The `scheduler` and `collect` subcommands, made with cli.build_parser's `command` helper."""
    p = command(
        "scheduler",
        "run the periodic jobs as their own process (production)",
        "Collects each business unit's sources at their `every_minutes`, rebuilds the summaries nightly. Several "
        "scheduler processes (and `reviews serve`) can run on one store: a lease per job lets one of them run it. "
        f"{store_note}",
    )
    p.set_defaults(func=cmd_scheduler)
    p = command(
        "collect",
        "run one collection of one source now, with a progress bar",
        "Incremental from where the last run got to, or --full. It takes the same lease as the scheduler, so it "
        f"never runs beside the scheduler's run of the same source. {store_note}",
        epilog=COLLECT_EPILOG,
    )
    p.add_argument("source", help="the source's name, e.g. trustpilot or kiyoh")
    p.add_argument(
        "--business-unit", "-b", metavar="BU", help=f"{bu_help} (default: every unit with this source configured)"
    )
    p.add_argument("--full", action="store_true", help="a full resync: catches edits and deletions, not only new ones")
    p.set_defaults(func=cmd_collect)
    p = command(
        "rescore",
        "recompute the sentiment of reviews after the analyser changed, with a progress bar",
        "Reviews whose sentiment_version is not the current analyser's (or every review with --all), in "
        f"batches; prints the counts as one JSON line. {store_note}",
    )
    p.add_argument("--business-unit", "-b", metavar="BU", help=f"{bu_help} (default: every unit)")
    p.add_argument("--all", action="store_true", help="every review, not only those an older analyser scored")
    p.set_defaults(func=cmd_rescore)
