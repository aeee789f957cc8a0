"""A CSV of orders (a shop's or a till's export) as numbered order records. Pure: bytes in, records out.

The header line is required; `order_ref` and `products` are the only columns that must be there (`products`:
SKUs separated by `|`). UTF-8 with or without a BOM; `;` (what spreadsheet programs write in much of Europe) or
`,` as the delimiter, whichever the header line uses. Columns this service does not know are named in the answer
and otherwise ignored, so an export with extra columns imports as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from collectors.csv_import import decode
from reviews_service.errors import InvalidInput

COLUMNS = ("order_ref", "email", "name", "locale", "products", "channel", "ordered_at", "send")
REQUIRED = ("order_ref", "products")
PRODUCT_SEPARATOR = "|"
MAX_FIELD = 100_000  # characters in one cell; far beyond any real order, short of a memory problem

Row = tuple[int, dict[str, Any] | str]


@dataclass(frozen=True)
class OrdersFile:
    """A parsed header: which delimiter, which columns are used, and which are not known (ignored)."""

    delimiter: str
    columns: tuple[str, ...]
    unknown_columns: tuple[str, ...]
    rows: Iterator[Row]


def _delimiter(header_line: str) -> str:
    """`;` when the header line has more of them than commas outside quotes, else `,`."""
    outside = header_line.split('"')[::2]  # the parts not inside a quoted name
    semicolons = sum(part.count(";") for part in outside)
    commas = sum(part.count(",") for part in outside)
    return ";" if semicolons > commas else ","


def parse(body: bytes) -> OrdersFile:
    """The file's header checked (InvalidInput, 400, when it cannot be an orders CSV) and its rows, lazily."""
    text = decode(body)
    if "\x00" in text:
        raise InvalidInput("The CSV contains NUL bytes; it is not a text file.", status=400)
    if not text.strip():
        raise InvalidInput("The file is empty: it needs a header line and a line per order.", status=400)
    first = text.lstrip().split("\n", 1)[0]
    delimiter = _delimiter(first)
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, line = _header(reader)
    if header is None:
        raise InvalidInput("The file has no header line (e.g. order_ref,email,products).", status=400)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        found = ", ".join(h[:40] for h in header[:12] if h) or "nothing"
        hint = " It looks like JSON: send one order as JSON to POST /v1/admin/invitations." if first[:1] in "{[" else ""
        raise InvalidInput(
            f"The header lacks {', '.join(missing)} (found: {found}). The columns are "
            f"{', '.join(COLUMNS)}; only order_ref and products are required.{hint}",
            status=400,
        )
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise InvalidInput(f"The header names {', '.join(duplicated)} more than once.", status=400)
    unknown = tuple(h for h in header if h and h not in COLUMNS)
    return OrdersFile(delimiter, tuple(header), unknown, _rows(reader, header, line))


def _header(reader: Any) -> tuple[list[str] | None, int]:
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                return [cell.strip().lower().lstrip("\ufeff") for cell in row], reader.line_num
    except csv.Error as exc:
        raise InvalidInput(f"The header line is not valid CSV: {exc}.", status=400) from exc
    return None, reader.line_num


def _rows(reader: Any, header: list[str], after: int) -> Iterator[Row]:
    """Each order with the line it starts on (a quoted cell may span lines); blank lines are skipped."""
    start = after + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"not valid CSV: {exc}"
            return  # the reader cannot say where the next row starts: stop rather than misnumber every line
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            yield line, f"{len(row)} fields, but the header has {len(header)}"
            continue
        cells = row + [""] * (len(header) - len(row))  # a short row leaves its last cells empty
        record: dict[str, Any] = {name: value for name, value in zip(header, cells, strict=False) if name in COLUMNS}
        record["products"] = [sku for sku in record["products"].split(PRODUCT_SEPARATOR) if sku.strip()]
        yield line, record
