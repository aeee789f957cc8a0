"""The `reviews` command: serve, demo, import, rebuild-summaries, scheduler, admin-token."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from reviews_service import store
from reviews_service.config import Settings, get_settings
from reviews_service.errors import EphemeralStoreRefused, ReviewsError

log = logging.getLogger("reviews.cli")


def _now() -> datetime:
    return datetime.now(UTC)


def _persistent_store(settings: Settings, what: str, hint: str = "") -> None:
    """Refuse a command that would write into an in-memory store and then exit, losing it all."""
    if settings.embedded:
        raise EphemeralStoreRefused(
            f"Refusing to {what}: MONGODB_URL is not set, so this would go into a throw-away in-memory "
            f"store that vanishes when this command exits. Set MONGODB_URL=mongodb://HOST:27017/reviews"
            f"{hint}."
        )
    store.connect(settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from reviews_service import demo, jobs
    from reviews_service.app import create_app

    info = store.connect(settings)
    if info.embedded:
        print(
            "!! EMBEDDED IN-MEMORY STORE: no MONGODB_URL, so data lives in this process and is lost when it stops.",
            file=sys.stderr,
        )
        if settings.load_demo and demo.is_empty():
            reports = demo.load(_now())
            for slug, report in reports.items():
                print(f"demo shop loaded: {slug}: {report.inserted} reviews", file=sys.stderr)
        _, stop = jobs.start_in_thread(jobs.build_scheduler(settings))
    app = create_app(settings, connect=False)
    print(
        f"serving on http://{args.host}:{args.port}  (API docs: http://{args.host}:{args.port}/docs)",
        file=sys.stderr,
    )
    # httptools + uvloop come with uvicorn[standard]; no access log unless logging at info or below
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        loop="auto",
        http="auto",
        access_log=args.log_level in ("info", "debug"),
        server_header=False,  # one header less to send, and for a cache in front to store and re-parse per hit
    )
    if info.embedded:
        stop.set()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service import demo

    _persistent_store(settings, "load the demo shop", " (`reviews serve` loads it by itself on the embedded store)")
    for slug, report in demo.load(_now()).items():
        print(f"{slug}: {json.dumps({k: v for k, v in report.as_dict().items() if k != 'rejections'})}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    path = Path(args.path)
    if not path.is_file():
        raise ReviewsError(f"No such file: {path}")
    body = path.read_bytes()
    if args.url:
        from reviews_service.remote import import_remote

        result = import_remote(args.url, args.token or "", args.business_unit, args.format, body)
    else:
        _persistent_store(settings, f"import {path.name}", " or pass --url of a running service")
        from reviews_service.imports import run_import

        lines = max(body.count(b"\n") - (1 if args.format.endswith("csv") else 0), 0)
        with tqdm(total=lines, unit="review", desc=f"importing {path.name}", file=sys.stderr) as bar:
            report = run_import(
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
    print(json.dumps(result))
    for item in rejected[:20]:
        print(f"  rejected line {item['index']}: {item['reason']}", file=sys.stderr)
    if len(rejected) > 20:
        print(f"  ... and {len(rejected) - 20} more", file=sys.stderr)
    return 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service.ingest import rebuild_summaries

    _persistent_store(
        settings, "rebuild summaries", " (on a running embedded service use POST /v1/admin/summaries/rebuild)"
    )
    report = rebuild_summaries(args.business_unit, now=_now())
    print(json.dumps(report))
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    import threading

    from reviews_service import jobs

    _persistent_store(settings, "run the scheduler on its own", " (`reviews serve` runs it in-process when embedded)")
    jobs.run_forever(jobs.build_scheduler(settings), threading.Event())
    return 0


def cmd_admin_token(args: argparse.Namespace, settings: Settings) -> int:
    from reviews_service import repository, tokens

    _persistent_store(settings, f"{args.action} admin tokens", " (or use POST /v1/admin/tokens on a running service)")
    if args.action == "create":
        secret, stored = tokens.mint(args.name, args.business_unit, _now())
        print(f"token {stored.id} ({stored.name}) created; it is shown only once:", file=sys.stderr)
        print(secret)
    elif args.action == "list":
        for t in repository.list_tokens():
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            print(f"{t.id}  {t.name}  {t.business_unit or '*'}  {state}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviews", description="Reviews and social-proof service.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the API, widgets and scheduler")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="load the demo shop into the configured store")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="bulk import a review file (with a progress bar)")
    p.add_argument("path")
    p.add_argument("--business-unit", "-b", required=True)
    p.add_argument("--format", "-f", default="trustpilot-csv", choices=["trustpilot-csv", "generic-csv", "jsonl"])
    p.add_argument("--url", help="import through a running service instead (e.g. http://127.0.0.1:8000)")
    p.add_argument("--token", help="admin token for --url (default: $REVIEWS_ADMIN_TOKEN)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("rebuild-summaries", help="recompute rating summaries from the reviews")
    p.add_argument("--business-unit", "-b")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("scheduler", help="run the periodic jobs as their own process")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("seo-validate", help="check a page's review markup against Google's rules")
    p.add_argument("target", help="an HTML file or an http(s) URL")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.set_defaults(func=cmd_seo_validate)

    p = sub.add_parser("admin-token", help="mint, list or revoke admin API tokens")
    tok = p.add_subparsers(dest="action", required=True)
    c = tok.add_parser("create")
    c.add_argument("--name", required=True)
    c.add_argument("--business-unit", "-b")
    tok.add_parser("list")
    r = tok.add_parser("revoke")
    r.add_argument("id")
    p.set_defaults(func=cmd_admin_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `reviews` console script."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
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
