"""`reviews digest`: print a day's digest as plain text, or send it (cli.build_parser adds it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime

from reviews_service.config import Settings

EPILOG = """exit status: 0 when every digest was printed (or sent); 2 when one could not be (a bad --date, an
unknown business unit, SMTP_URL or DIGEST_RECIPIENTS not set, the SMTP server refusing it), with the reason on
stderr."""


def day_argument(text: str) -> date:
    """--date as a calendar date; argparse reports the error (exit status 2)."""
    from reviews_service.api.digests import parse_day
    from reviews_service.errors import InvalidInput

    try:
        return parse_day(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.detail) from None


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print (or send) the digest of each unit asked for."""
    from reviews_service import digest_text, digests, repository
    from reviews_service.cli import persistent_store
    from sentiment.digest import yesterday

    state = persistent_store(settings, "build a digest", " to read the reviews it is about")
    now = datetime.now(UTC)
    if args.business_unit:
        units = [repository.get_business_unit(state, args.business_unit)]
    else:
        units = repository.list_business_units()
    for index, unit in enumerate(units):
        day = args.date or yesterday(now, unit.timezone)
        if args.send:
            digests.send(state, settings, unit.slug, day, now=now)
            print(f"sent the digest of {unit.slug} for {day.isoformat()} to {settings.digest_recipients}")
            continue
        digest = digests.build(state, unit.slug, day, now=now)
        print(("\n" if index else "") + digest_text.text(digest, digests.links(settings, digest, now=now)), end="")
    return 0


def add_command(command: Callable[..., argparse.ArgumentParser], bu_help: str) -> None:
    """The `digest` subcommand, made with cli.build_parser's `command` helper."""
    p = command(
        "digest",
        "print a day's digest as plain text, or send it by e-mail",
        "The digest of a business unit's day in its own time zone: new reviews and their average, the 7/30/90-day "
        "trend, every one-star review in full, open flags and recurring complaints, in the unit's language. The "
        "scheduler sends each unit's digest once a day by itself (DIGEST_TIME in DIGEST_TIMEZONE); --send sends it "
        "now, whether or not it was sent before.",
        epilog=EPILOG,
    )
    p.add_argument(
        "--date", type=day_argument, metavar="YYYY-MM-DD", help="the day (default: yesterday in each unit's time zone)"
    )
    p.add_argument("--business-unit", "-b", metavar="BU", help=f"{bu_help} (default: every business unit)")
    p.add_argument("--send", action="store_true", help="send it over SMTP_URL to DIGEST_RECIPIENTS instead of printing")
    p.set_defaults(func=cmd_digest)
