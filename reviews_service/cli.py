"""The `reviews` command: serve, demo, import, rebuild-summaries, scheduler, collect, seo-validate, admin-token,
invitations."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reviews_service import __version__, store
from reviews_service.config import Settings, get_settings
from reviews_service.errors import EphemeralStoreRefused, ReviewsError

if TYPE_CHECKING:
    from reviews_service.collection import Registry
    from reviews_service.state import ServiceState

log = logging.getLogger("reviews.cli")


def _now() -> datetime:
    return datetime.now(UTC)


def persistent_store(settings: Settings, what: str, hint: str = "") -> ServiceState:
    """Refuse a command that would write into an in-memory store and then exit, losing it all; else connect,
    and hand back the command's own caches, change feed and locks."""
    if settings.ephemeral:
        raise EphemeralStoreRefused(
            f"Refusing to {what}: REVIEWS_DATA_DIR is :memory: (and MONGODB_URL is not set), so this would go "
            f"into a throw-away in-memory store that vanishes when this command exits. Point REVIEWS_DATA_DIR "
            f"at the data directory `reviews serve` uses (default ./data), or set MONGODB_URL=mongodb://HOST:27017/"
            f"reviews{hint}."
        )
    from reviews_service.state import ServiceState

    store.connect(settings)
    return ServiceState()


START_UP_TOKEN = "reviews serve start-up"


def _revoke_tokens_of_dead_runs(state: ServiceState) -> None:
    """Revoke start-up tokens of `reviews serve` runs on this machine that ended without revoking theirs (kill -9).

    A run's token is named after its host and pid; a run still alive (another `serve` on this data directory)
    keeps its token.
    """
    from reviews_service import repository
    from reviews_service.leases import gone_here

    for token in repository.list_tokens():
        host, _, pid = token.name.removeprefix(f"{START_UP_TOKEN} ").rpartition(":")
        ours = token.revoked_at is None and token.name.startswith(START_UP_TOKEN)
        if ours and pid.isdigit() and gone_here(host, int(pid)):
            repository.revoke_token(token.id, _now())


def _start_up(
    args: argparse.Namespace, settings: Settings, info: store.StoreInfo, state: ServiceState
) -> tuple[list[str], str | None]:
    """Load the demo and mint a token where that is due; the lines that tell the user, and the token's id."""
    from reviews_service import demo, tokens

    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    base = f"http://{shown_host}:{args.port}"
    lines = [f"data:        {info.description if info.embedded else f'MongoDB at {info.description}'}"]
    if info.embedded and settings.load_demo and demo.is_empty():
        reports = demo.load(state, _now())
        for slug, report in reports.items():
            rejected = f" ({len(report.rejected)} rejected)" if report.rejected else ""
            lines.append(f"demo shop:   {demo.describe(slug)}{rejected}")
    if info.embedded:  # the embedded store opens each file (and builds missing index tables): now, not on a request
        started = time.perf_counter()
        counts = store.warm_up()
        lines.append(f"indexed:     {counts.get('reviews', 0):,} reviews in {time.perf_counter() - started:.1f} s")
    lines += [f"demo:        {base}/demo", f"API docs:    {base}/docs", f"health:      {base}/health"]
    token_id = None
    if settings.admin_token is not None:
        lines.append("admin token: REVIEWS_ADMIN_TOKEN, as set in the environment")
    elif info.embedded:
        # without one the admin API is unusable (in memory, the CLI cannot even reach the store to mint one)
        _revoke_tokens_of_dead_runs(state)
        secret, minted = tokens.mint(state, f"{START_UP_TOKEN} {socket.gethostname()}:{os.getpid()}", None, _now())
        token_id = minted.id
        lines.append(f"admin token: {secret}")
        lines.append("             minted for this run and shown only now; it stops working when the server stops.")
        lines.append("             For curl and `reviews import --url`: export REVIEWS_ADMIN_TOKEN=<that token>")
    else:
        lines.append("admin token: none; mint one with `reviews admin-token create --name NAME`")
    return lines, token_id


def serve_logs(settings: Settings, level: str) -> None:
    """Log lines as REVIEWS_LOG_FORMAT says; one access line per request at `level` info or debug."""
    from reviews_service import logs

    logs.configure(logs.format_for(settings.log_format, settings.env))
    access = logging.INFO if level in ("info", "debug") else logging.WARNING
    logging.getLogger(logs.ACCESS_LOGGER).setLevel(access)


# The cyclic garbage collector's thresholds for a serving process (CPython's: 700, 10, 10). A full collection
# walks every object the process holds; with the embedded store's documents and indexes in memory that took
# 200-300 ms on the development VM, and at the default thresholds traffic set one off every 1-2 s (each request's
# objects outlive a young collection or two while it is in flight), stalling every request of that moment:
# the soak's direct p99 was 150-400 ms at 2,000 requests a second. Larger thresholds make collections rare.
GC_THRESHOLDS = (10_000, 50, 50)


def settle_collector() -> None:
    """Before serving: collect once, freeze what the start-up left (modules, the store's documents and indexes
    as loaded: never garbage), so later collections do not walk it again, and raise the thresholds. A frozen
    object still goes when its last reference does; only a reference cycle among frozen objects would stay."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from reviews_service import jobs, repository
    from reviews_service.app import create_app
    from reviews_service.cli_jobs import registry_of
    from reviews_service.state import ServiceState

    if "public_url" not in settings.model_fields_set:
        # Links in e-mails (digest pages, alerts) point at this server when REVIEWS_PUBLIC_URL is not set.
        shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        settings = settings.model_copy(update={"public_url": f"http://{shown_host}:{args.port}"})
    serve_logs(settings, args.log_level)
    info = store.connect(settings)
    state = ServiceState()  # the app's, shared with the start-up and the in-process scheduler: one set of caches
    lines, token_id = _start_up(args, settings, info, state)
    in_process = info.embedded and not args.no_scheduler
    scheduler = jobs.build_scheduler(settings, state, registry_of(args)) if in_process else None
    stop = jobs.start_in_thread(scheduler)[1] if scheduler is not None else None
    app = create_app(settings, connect=False, state=state, registry=registry_of(args))
    settle_collector()
    print(f"reviews-service {__version__}", *lines, sep="\n", flush=True)
    try:
        # httptools + uvloop come with uvicorn[standard]; the access lines are ours (reviews.access, see
        # serve_logs): route templates, never raw paths with their tokens; uvicorn's own lines go through our format
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            log_config=None,
            loop="auto",
            http="auto",
            access_log=False,
            server_header=False,  # one header less to send, and for a cache in front to store and re-parse per hit
        )
    finally:
        if stop is not None:
            stop.set()
        if token_id is not None:  # one run, one token, also once the store outlives the process
            repository.revoke_token(token_id, _now())
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service import demo

    state = persistent_store(
        settings, "load the demo shop", " (`reviews serve` loads it by itself on the embedded store)"
    )
    for slug, report in demo.load(state, _now()).items():
        print(f"{slug}: {json.dumps({k: v for k, v in report.as_dict().items() if k != 'rejections'})}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    path = Path(args.path)
    if not path.is_file():
        raise ReviewsError(f"No such file: {path}")
    body = path.read_bytes()
    if not body.strip():
        raise ReviewsError(f"{path} is empty: there is nothing to import.")
    if args.url:
        from reviews_service.remote import import_remote

        result = import_remote(args.url, args.token, args.business_unit, args.format, body)
    else:
        state = persistent_store(settings, f"import {path.name}", " or pass --url of a running service")
        from reviews_service.imports import run_import

        lines = max(body.count(b"\n") - (1 if args.format.endswith("csv") else 0), 0)
        with tqdm(total=lines, unit="review", desc=f"importing {path.name}", file=sys.stderr) as bar:
            report = run_import(
                state,
                args.business_unit,
                body,
                args.format,
                now=_now(),
                max_text=settings.max_text_chars,
                progress=bar.update,
            )
            bar.n = bar.total or 0
        result = report.as_dict()
    rejected = result.pop("rejections", [])
    kept = result.pop("status_kept", [])  # stored, but a published review stays published (a moderator's call)
    result["status_kept"] = len(kept)
    print(json.dumps(result))
    for item in rejected[:20]:
        print(f"  rejected line {item['index']}: {item['reason']}", file=sys.stderr)
    if len(rejected) > 20:
        print(f"  ... and {len(rejected) - 20} more", file=sys.stderr)
    for item in kept[:20]:
        print(f"  status not applied, line {item['index']}: {item['reason']}", file=sys.stderr)
    if len(kept) > 20:
        print(f"  ... and {len(kept) - 20} more whose status was not applied", file=sys.stderr)
    if rejected:
        stored = result["inserted"] + result["updated"] + result["unchanged"]
        print(
            f"reviews: {len(rejected):,} of {stored + len(rejected):,} records rejected (see above); "
            f"the other {stored:,} are stored",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service.ingest import rebuild_summaries

    state = persistent_store(
        settings, "rebuild summaries", " (on a running embedded service use POST /v1/admin/summaries/rebuild)"
    )
    report = rebuild_summaries(state, args.business_unit, now=_now())
    print(json.dumps(report))
    return 0


def cmd_admin_token(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service import repository, tokens

    state = persistent_store(
        settings, f"{args.action} admin tokens", " (or use POST /v1/admin/tokens on a running service)"
    )
    if args.action == "create":
        secret, stored = tokens.mint(state, args.name, args.business_unit, _now())
        print(f"token {stored.id} ({stored.name}) created; it is shown only once:", file=sys.stderr)
        print(secret)
    elif args.action == "list":
        for t in repository.list_tokens():
            status = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            print(f"{t.id}  {t.name}  {t.business_unit or '*'}  {status}")
    else:
        token = repository.revoke_token(args.id, _now())
        print(f"token {token.id} ({token.name}) revoked")
    return 0


def cmd_seo_validate(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service.api.seo import fetch_page
    from seo.validate import validate_html

    target = args.target
    if target.startswith(("http://", "https://")):
        html = fetch_page(target, allow_private=True)  # the user's own command: local test servers are fine
    else:
        path = Path(target)
        if not path.is_file():
            raise ReviewsError(f"No such file: {path} (give a file or an http(s) URL)")
        html = path.read_text(encoding="utf-8", errors="replace")
    report = validate_html(html)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for item in report["items"]:
            kinds = item.get("@type")
            print(f"found {item['syntax']}: {', '.join(kinds) if isinstance(kinds, list) else kinds}")
        for problem in report["problems"]:
            print(f"{problem['severity']}: {problem['path']}: {problem['message']} [{problem['rule']}]")
        errors = sum(1 for p in report["problems"] if p["severity"] == "error")
        print(f"{len(report['items'])} items, {errors} errors, {len(report['problems']) - errors} warnings")
    return 1 if any(p["severity"] == "error" for p in report["problems"]) else 0


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default after its help, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action) or ""


BU_HELP = "the business unit's slug, e.g. flinders-nl"
IMPORT_EPILOG = """exit status: 0 when every record was stored; 1 when some were rejected (the others are stored,
the rejected lines and a summary are on stderr); 2 when the import could not run (no such file, a file in
another format, an unknown business unit, a missing or wrong token, an unreachable service)."""
STORE_NOTE = (
    "Writes into MONGODB_URL, or the embedded store in REVIEWS_DATA_DIR (also while `reviews serve` runs on it); "
    "refused with REVIEWS_DATA_DIR=:memory:, whose data would vanish when this command exits."
)


def build_parser() -> argparse.ArgumentParser:
    """The `reviews` command line: one subcommand per chore, each with its own --help."""
    parser = argparse.ArgumentParser(
        prog="reviews",
        description="Reviews and social-proof service. Settings come from the environment (see the README).",
        formatter_class=_Help,
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do; `reviews COMMAND --help` tells more"
    )

    def command(name: str, summary: str, note: str = "", epilog: str | None = None) -> argparse.ArgumentParser:
        description = f"{summary[:1].upper()}{summary[1:]}. {note}".strip()
        return sub.add_parser(name, help=summary, description=description, epilog=epilog, formatter_class=_Help)

    p = command(
        "serve",
        "run the API, widgets and SEO endpoints",
        "With no MONGODB_URL it uses the embedded store in REVIEWS_DATA_DIR (default ./data), loads the demo shop "
        "when that is empty, mints an admin token for the run and runs the scheduler in the same process.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level; info and debug also log every request",
    )
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="on the embedded store, run no scheduler in this process: run `reviews scheduler` beside it on the "
        "same REVIEWS_DATA_DIR, so collectors and digests never take the web process's CPU at peak",
    )
    p.set_defaults(func=cmd_serve)

    p = command("demo", "load the demo shop (flinders-nl, flinders-be) into the configured store", STORE_NOTE)
    p.set_defaults(func=cmd_demo)

    p = command(
        "import",
        "bulk import a review file, with a progress bar",
        "Into MONGODB_URL or the embedded store in REVIEWS_DATA_DIR, or with --url through a running service's "
        "import endpoint. Idempotent: "
        "importing a file again stores nothing twice.",
        epilog=IMPORT_EPILOG,
    )
    p.add_argument("path", help="the file to import (UTF-8)")
    p.add_argument("--business-unit", "-b", required=True, metavar="BU", help=f"{BU_HELP} (must exist)")
    p.add_argument(
        "--format",
        "-f",
        default="trustpilot-csv",
        choices=["trustpilot-csv", "generic-csv", "jsonl"],
        metavar="FORMAT",
        help="the file's format: trustpilot-csv, generic-csv or jsonl (the README lists their fields)",
    )
    p.add_argument("--url", help="import through the running service at this base URL, e.g. http://127.0.0.1:8000")
    p.add_argument("--token", help="admin token for --url (default: $REVIEWS_ADMIN_TOKEN)")
    p.set_defaults(func=cmd_import)

    p = command("rebuild-summaries", "recompute rating summaries from the reviews and print which differed", STORE_NOTE)
    p.add_argument("--business-unit", "-b", metavar="BU", help=f"{BU_HELP} (default: every business unit)")
    p.set_defaults(func=cmd_rebuild)

    from reviews_service.cli_jobs import add_commands

    add_commands(command, BU_HELP, STORE_NOTE)
    from reviews_service.cli_digest import add_command as add_digest

    add_digest(command, BU_HELP)
    from reviews_service.cli_invitations import add_command as add_invitations

    add_invitations(command, BU_HELP, STORE_NOTE)

    p = command(
        "seo-validate",
        "check a page's review markup against Google's rules",
        "Reads JSON-LD, microdata and RDFa; exits 1 when it finds errors.",
    )
    p.add_argument("target", help="an HTML file or an http(s) URL")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.set_defaults(func=cmd_seo_validate)

    p = command("admin-token", "mint, list or revoke admin API tokens", STORE_NOTE)
    tok = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="what to do with tokens")
    c = tok.add_parser(
        "create",
        help="mint a token (shown once, stored hashed)",
        description="Mint an admin API token.",
        formatter_class=_Help,
    )
    c.add_argument("--name", required=True, help="who or what uses the token, e.g. ci or shop-backend")
    c.add_argument(
        "--business-unit", "-b", metavar="BU", help=f"{BU_HELP}: limit the token to it (default: every unit)"
    )
    tok.add_parser("list", help="list minted tokens (never their secrets)", formatter_class=_Help)
    r = tok.add_parser("revoke", help="revoke a token: it stops working at once", formatter_class=_Help)
    r.add_argument("id", help="the token's id, as `list` shows it")
    p.set_defaults(func=cmd_admin_token)
    return parser


def main(argv: Sequence[str] | None = None, *, registry: Registry | None = None) -> int:
    """Entry point of the `reviews` console script; `registry` replaces the collectors' (tests only)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    args.registry = registry
    try:
        settings = get_settings()
        if getattr(args, "command", "") == "import" and args.url and not args.token:
            args.token = settings.admin_token.get_secret_value() if settings.admin_token else None
        return int(args.func(args, settings))
    except ReviewsError as exc:
        print(f"reviews: {exc.detail}", file=sys.stderr)
        return 2
    except ValueError as exc:  # settings validation (e.g. a placeholder secret in production)
        print(f"reviews: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
