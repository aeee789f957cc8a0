"""Parsers for bulk imports: trustpilot-csv, generic-csv and jsonl. Pure: bytes in, records out.

Each parser yields `(line_number, record_or_error)`: a loose record dict for the ingest path, or
a string saying why that line could not even be read. The ingest path validates the records.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from reviews_service.errors import InvalidInput
from reviews_service.normalize import json_type

FORMATS = ("trustpilot-csv", "generic-csv", "jsonl")
TRUSTPILOT_COLUMNS = (
    "id",
    "filtered",
    "pending",
    "text",
    "rating",
    "title",
    "likes",
    "experienced",
    "published",
)
GENERIC_REQUIRED = ("external_id", "rating", "created_at")
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line for csv.reader over newline=""

Parsed = tuple[int, dict[str, Any] | str]


def decode(body: bytes) -> str:
    """UTF-8 text (a BOM is dropped); InvalidInput for anything else."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The file is not UTF-8 text (bad byte at offset {exc.start}). Re-export it as UTF-8.", status=400
        ) from exc


def _reader(text: str, required: tuple[str, ...], fmt: str) -> csv.DictReader[str]:
    if "\x00" in text:
        raise InvalidInput("The CSV contains NUL bytes; it is not a text file.", status=400)
    csv.field_size_limit(10 * 1024 * 1024)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(
            f"This is not a {fmt} file: the header lacks {', '.join(missing)} "
            f"(found: {', '.join(header[:12]) or 'nothing'}).{_looks_like(text, header, fmt)}",
            status=400,
        )
    reader.fieldnames = header
    return reader


def _looks_like(text: str, header: list[str], fmt: str) -> str:
    """A hint naming the format the file seems to be in, for a file given with the wrong one."""
    if text.lstrip()[:1] in ("{", "["):
        return " It looks like JSON: the format for one JSON object a line is jsonl."
    for other, required in (("trustpilot-csv", TRUSTPILOT_COLUMNS), ("generic-csv", GENERIC_REQUIRED)):
        if other != fmt and all(c in header for c in required):
            return f" It looks like a {other} file: give that format."
    return ""


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Each row with the line it starts on (reader.line_num is the line it ends on: a quoted field may span
    several lines)."""
    try:
        for row in reader:
            fields = [v for k, v in row.items() if k is not None and v] + list(row.get(None) or [])
            line = reader.line_num - sum(len(LINE_BREAK.findall(field)) for field in fields)
            if None in row:
                yield line, f"line {line} has more fields than the header"
                continue
            yield line, row
    except csv.Error as exc:
        yield reader.line_num, f"line {reader.line_num} is not valid CSV: {exc}"


def parse_trustpilot_csv(text: str) -> Iterator[Parsed]:
    """A Trustpilot review export (`id, filtered, pending, text, rating, title, ..., published`)."""
    for line, row in _rows(_reader(text, TRUSTPILOT_COLUMNS, "trustpilot-csv")):
        if isinstance(row, str):
            yield line, row
            continue
        status = "published"
        if (row.get("pending") or "").strip().lower() == "true":
            status = "pending"
        if (row.get("filtered") or "").strip().lower() == "true":
            status = "hidden"
        yield (
            line,
            {
                "source": "trustpilot",
                "external_id": row.get("id"),
                "rating": row.get("rating"),
                "title": row.get("title"),
                "text": row.get("text"),
                "author": row.get("author") or row.get("consumer") or "",
                "created_at": row.get("published"),
                "language": row.get("language") or None,
                "status": status,
            },
        )


def parse_generic_csv(text: str) -> Iterator[Parsed]:
    """Our own CSV: a header naming ingest fields (normalize.KNOWN_FIELDS); external_id, rating, created_at required."""
    for line, row in _rows(_reader(text, GENERIC_REQUIRED, "generic-csv")):
        if isinstance(row, str):
            yield line, row
            continue
        # every column goes on: ingest reports the ones it does not know (ignored_fields), none vanish silently
        yield line, {k: (v if v != "" else None) for k, v in row.items()}


def parse_jsonl(text: str) -> Iterator[Parsed]:
    """One JSON object a line, in the shape of the admin ingest endpoint's items.

    A file whose first line is not a JSON object is refused as a whole (InvalidInput): it is some other
    format, and rejecting each of its lines would only bury that in a long list.
    """
    first = True
    for number, raw_line in enumerate(text.splitlines(), start=1):
        if not raw_line.strip():
            continue
        if first:
            _first_jsonl_line(number, raw_line)
            first = False
        try:
            value = json.loads(raw_line)
        except ValueError as exc:
            yield number, f"line {number} is not valid JSON: {exc}"
            continue
        if not isinstance(value, dict):
            yield number, f"line {number} is {json_type(value)}, not a JSON object"
            continue
        yield number, value


def _first_jsonl_line(number: int, line: str) -> None:
    """InvalidInput when the first line of a jsonl file cannot be the start of one: the file is something else."""
    stripped = line.strip()
    if stripped.startswith("{") and stripped != "{":
        return  # an object, or a broken one: that line alone is rejected, as any later line would be
    if stripped.startswith("["):
        hint = " It looks like a JSON array: jsonl wants one object a line."
    elif stripped == "{":
        hint = " It looks like pretty-printed JSON: jsonl wants each object on one line."
    elif "," in line or ";" in line:
        hint = " It looks like CSV: the formats for CSV files are trustpilot-csv and generic-csv."
    else:
        hint = ""
    raise InvalidInput(f"This is not a jsonl file: line {number} is not a JSON object.{hint}", status=400)


PARSERS = {"trustpilot-csv": parse_trustpilot_csv, "generic-csv": parse_generic_csv, "jsonl": parse_jsonl}


def parse(body: bytes, fmt: str) -> Iterator[Parsed]:
    """Parse an import file of the given format; InvalidInput when the file as a whole is unusable."""
    if fmt not in PARSERS:
        raise InvalidInput(f"Unknown import format '{fmt}'; use one of: {', '.join(FORMATS)}.", status=400)
    return PARSERS[fmt](decode(body))
