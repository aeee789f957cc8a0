"""`reviews invitations import`: a CSV of orders -> invitations, with a progress bar (cli.build_parser adds it)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reviews_service.config import Settings

EPILOG = """The CSV's header names its columns: order_ref, email, name, locale, products, channel, ordered_at, send
(order_ref and products required; products are SKUs separated by |; `,` or `;` delimited; UTF-8). An order
imported before counts as existing and is left as it is. exit status: 0 when every order became an invitation
(new or existing); 1 when some lines were rejected (listed on stderr with their line numbers); 2 when nothing
could be imported (no such file or unit, not a CSV of orders, the in-memory store)."""
SHOWN = 20  # rejections printed on stderr; the counts are exact whatever the number


def cmd_invitations(args: argparse.Namespace, settings: Settings) -> int:
    """Import a CSV of orders into the configured store."""
    from tqdm import tqdm

    from reviews_service import invitations, repository
    from reviews_service.cli import persistent_store
    from reviews_service.errors import ReviewsError

    path = Path(args.path)
    if not path.is_file():
        raise ReviewsError(f"No such file: {path}")
    body = path.read_bytes()
    if not body.strip():
        raise ReviewsError(f"{path} is empty: there is nothing to import.")
    state = persistent_store(settings, f"import the orders of {path.name}")
    repository.get_business_unit(state, args.business_unit)
    orders = max(body.count(b"\n") - 1 + (0 if body.endswith(b"\n") else 1), 0)  # lines after the header
    with tqdm(total=orders, unit="order", desc=f"inviting {path.name}", file=sys.stderr) as bar:
        report = invitations.import_csv(
            state, settings, args.business_unit, body, now=datetime.now(UTC), progress=bar.update
        )
        bar.n = bar.total or 0
    rejections = report.pop("rejections")
    print(json.dumps(report))
    for item in rejections[:SHOWN]:
        print(f"  rejected line {item['line']}: {item['reason']}", file=sys.stderr)
    if report["rejected"] > SHOWN:
        print(f"  ... and {report['rejected'] - SHOWN:,} more", file=sys.stderr)
    if report["unknown_columns"]:
        print(f"  ignored columns: {', '.join(report['unknown_columns'])}", file=sys.stderr)
    return 1 if report["rejected"] else 0


def add_command(command: Callable[..., argparse.ArgumentParser], bu_help: str, store_note: str) -> None:
    """The `invitations` subcommand (with its one action, `import`), made with cli.build_parser's `command`."""
    p = command(
        "invitations",
        "invite buyers to review: import a CSV of orders",
        "Each order becomes one invitation (the shop and each product bought), mailed per the unit's invitation "
        "policy. " + store_note,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="what to do with invitations")
    i = actions.add_parser(
        "import",
        help="a CSV of orders -> invitations, with a progress bar",
        description="Turn a CSV of orders into invitations. Idempotent: an order imported again is left as it is.",
        epilog=EPILOG,
        formatter_class=p.formatter_class,
    )
    i.add_argument("path", help="the CSV file of orders (UTF-8)")
    i.add_argument("--business-unit", "-b", required=True, metavar="BU", help=f"{bu_help} (must exist)")
    p.set_defaults(func=cmd_invitations)
