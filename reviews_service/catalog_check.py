"""The catalogs against the code: what `scripts/i18n` and tests/test_i18n.py report, and new languages.

The msgids are what babel extracts from the packages (`gettext(locale, "...")`, `ngettext(locale, "...", "...", n)`,
`N_("...")`). Each language must translate every one of them (every plural form CLDR asks for, nothing fuzzy),
with exactly the msgid's `{placeholders}`, and hold nothing the code no longer says. Each area owns its own
`.po` file, so a msgid kept in two files of one language with two different translations is reported too.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from reviews_service import i18n

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("reviews_service", "widgets", "seo", "sentiment", "collectors")
KEYWORDS: dict[str, tuple[int, ...] | None] = {"gettext": (2,), "ngettext": (2, 3), "N_": None}
NEW_AREA = "messages.po"  # where `new` puts msgids that no language has in a catalog yet


@dataclass
class Used:
    """One msgid of the code: its plural (for ngettext) and where it is said."""

    plural: str | None
    locations: list[str]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing to fix in one language: `where` is the .po file, or the code for a missing msgid."""

    language: str
    where: str
    kind: str  # missing, fuzzy, untranslated, plural forms, placeholders, stale, duplicate, not extracted
    msgid: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.language} {self.where}: {self.kind}: {self.msgid!r}" + (
            f" ({self.detail})" if self.detail else ""
        )


def extract(root: Path = ROOT) -> dict[str, Used]:
    """Every msgid in the source packages under `root`, keyed by its (singular) English text."""
    used: dict[str, Used] = {}
    for package in SOURCES:
        if not (root / package).is_dir():
            continue
        found = extract_from_dir(root / package, method_map=[("**.py", "python")], keywords=KEYWORDS)
        for filename, line, message, _, _ in found:
            singular, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
            entry = used.setdefault(singular, Used(plural, []))
            entry.plural = entry.plural or plural
            entry.locations.append(f"{package}/{filename}:{line}")
    return used


def placeholders(text: str) -> set[str]:
    """The `{names}` a text fills; ValueError for unbalanced braces."""
    return {field for _, field, _, _ in Formatter().parse(text) if field}


def languages(locales: Path = i18n.CATALOGS) -> list[str]:
    """The languages that have a catalog directory."""
    return sorted(p.name for p in locales.iterdir() if (p / "LC_MESSAGES").is_dir()) if locales.is_dir() else []


def check(root: Path = ROOT, locales: Path = i18n.CATALOGS) -> list[Problem]:
    """Every problem of every language's catalogs against the code under `root`, sorted."""
    used = extract(root)
    problems = list(_hidden(root, used))
    hidden = {p.msgid for p in problems}  # said, only out of babel's sight: not stale, already reported
    for language in languages(locales):
        problems += _check_language(language, locales, used, root, hidden)
    return sorted(problems)


def _entries(language: str, locales: Path) -> dict[str, list[tuple[Path, Message]]]:
    entries: dict[str, list[tuple[Path, Message]]] = {}
    for path in sorted((locales / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    entries.setdefault(key, []).append((path, message))
    return entries


def _check_language(
    language: str, locales: Path, used: dict[str, Used], root: Path, hidden: set[str]
) -> Iterable[Problem]:
    entries = _entries(language, locales)
    forms = get_plural(language).num_plurals

    def name(path: Path) -> str:
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    for msgid, use in used.items():
        if msgid not in entries:
            if language != i18n.DEFAULT_LOCALE:  # English msgids are the English text
                yield Problem(language, use.locations[0], "missing", msgid)
            continue
        path, message = entries[msgid][0]
        strings = _forms(message.string)
        if message.fuzzy:
            yield Problem(language, name(path), "fuzzy", msgid, "translated by a guess: check it, then drop #, fuzzy")
        elif (use.plural is not None) != message.pluralizable or (use.plural and len(strings) != forms):
            wanted = f"{forms} msgstr[] forms" if use.plural else "a msgstr without plural forms"
            yield Problem(language, name(path), "plural forms", msgid, f"{language} needs {wanted}")
        elif not all(strings):
            yield Problem(language, name(path), "untranslated", msgid)
        yield from _placeholders(language, name(path), msgid, use, strings)
    for msgid, found in entries.items():
        for path, message in found:
            if msgid not in used and msgid not in hidden:
                yield Problem(language, name(path), "stale", msgid, "the code no longer says it: remove it")
            elif msgid in used and message.string != found[0][1].string:
                other = name(found[0][0])
                yield Problem(language, name(path), "duplicate", msgid, f"translated differently in {other}")


def _forms(string: object) -> tuple[str, ...]:
    """A message's translations as a tuple (one form, or one per plural form)."""
    return tuple(str(s) for s in string) if isinstance(string, (tuple, list)) else (str(string or ""),)


def _placeholders(language: str, where: str, msgid: str, use: Used, strings: tuple[str, ...]) -> Iterable[Problem]:
    wanted = placeholders(msgid) | placeholders(use.plural or "")
    for text in filter(None, strings):
        try:
            named = placeholders(text)
        except ValueError:
            yield Problem(language, where, "placeholders", msgid, f"unbalanced braces in {text!r}")
            continue
        if named != wanted:
            detail = f"{text!r} fills {sorted(named)}, the code passes {sorted(wanted)}"
            yield Problem(language, where, "placeholders", msgid, detail)


def _hidden(root: Path, used: dict[str, Used]) -> Iterable[Problem]:
    # babel's Python extractor cannot see a call inside an f-string on Python 3.11: such a msgid would be
    # shown untranslated without any check noticing, so the syntax tree is searched for literal msgids too.
    for package in SOURCES:
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if func not in KEYWORDS:
                    continue
                index = (KEYWORDS[func] or (1,))[0] - 1
                arg = node.args[index] if len(node.args) > index else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value not in used:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    yield Problem("*", where, "not extracted", arg.value, "move the call out of the f-string")


def new_language(language: str, root: Path = ROOT, locales: Path = i18n.CATALOGS) -> list[Path]:
    """Create `locales/<language>/LC_MESSAGES/*.po` with every msgid of the code untranslated; the files made."""
    if not re.fullmatch(r"[a-z]{2,3}", language):
        raise ValueError(f"{language!r} is not a language code such as es or pt (lower case, no region)")
    try:
        Locale.parse(language)
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"CLDR does not know the language {language!r}") from exc
    target = locales / language / "LC_MESSAGES"
    if target.exists():
        raise ValueError(f"{target} exists already; `scripts/i18n check` lists what it still lacks")
    area: dict[str, str] = {}  # msgid -> the .po file that holds it in the languages we have
    for existing in languages(locales):
        for msgid, found in _entries(existing, locales).items():
            area.setdefault(msgid, found[0][0].name)
    catalogs: dict[str, Catalog] = {}
    for msgid, use in sorted(extract(root).items()):
        name = area.get(msgid, NEW_AREA)
        catalog = catalogs.setdefault(
            name, Catalog(locale=language, domain=name[:-3], project="reviews-service", fuzzy=False)
        )
        catalog.add((msgid, use.plural) if use.plural else msgid, locations=[])
    target.mkdir(parents=True)
    for name, catalog in sorted(catalogs.items()):
        with (target / name).open("wb") as handle:
            write_po(handle, catalog, width=120, no_location=True)
    return [target / name for name in sorted(catalogs)]


def main(argv: list[str] | None = None) -> int:
    """`check` (exit 1 on any problem) or `new LANG`."""
    parser = argparse.ArgumentParser(prog="scripts/i18n", description="gettext catalogs against the code")
    parser.add_argument("--locales", type=Path, default=i18n.CATALOGS, help="the catalog directory")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list missing, stale and mismatched entries per language and file")
    new = commands.add_parser("new", help="start the catalogs of a new language, every msgid untranslated")
    new.add_argument("language", help="a CLDR language code, e.g. es")
    args = parser.parse_args(argv)
    if args.command == "new":
        try:
            made = new_language(args.language, locales=args.locales)
        except ValueError as exc:
            print(f"scripts/i18n: {exc}", file=sys.stderr)
            return 2
        print("\n".join(f"created {path}" for path in made))
        print("translate them, then run scripts/i18n check")
        return 0
    problems = check(locales=args.locales)
    for problem in problems:
        print(problem)
    count = len(languages(args.locales))
    print(f"{len(problems)} problem(s) in the catalogs of {count} language(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
