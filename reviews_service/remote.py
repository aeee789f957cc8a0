"""`reviews import --url`: send a file to a running service's import endpoint in chunks, with progress."""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from typing import Any

import httpx
from tqdm import tqdm

from collectors import csv_import
from reviews_service.errors import ReviewsError

CHUNK_LINES = 1000
# what an HTTP header value may carry without breaking the request (h11 refuses the rest)
TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
NO_TOKEN = (
    "No admin token for --url: pass --token TOKEN or set REVIEWS_ADMIN_TOKEN "
    "(`reviews serve` on the embedded store prints one at start-up)."
)


@dataclass(frozen=True)
class Chunk:
    """One request's body, how many records it holds and the file line its first row starts on."""

    body: bytes
    records: int
    first_line: int
    header_lines: int  # lines before the first row in `body` (the repeated CSV header)


def _chunks(text: str, fmt: str) -> list[Chunk]:
    """Split a CSV/JSONL file into bodies of CHUNK_LINES rows, repeating the CSV header in each."""
    if fmt == "jsonl":
        lines = text.splitlines(keepends=True)
        return [
            Chunk("".join(part).encode(), sum(1 for line in part if line.strip()), start + 1, 0)
            for start in range(0, len(lines), CHUNK_LINES)
            for part in [lines[start : start + CHUNK_LINES]]
        ]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        rows: list[tuple[int, list[str]]] = []  # (line the row starts on, fields)
        end = reader.line_num
        for row in reader:
            rows.append((end + 1, row))
            end = reader.line_num
    except csv.Error as exc:
        raise ReviewsError(f"Line {reader.line_num} is not valid CSV: {exc}") from exc
    out = []
    for start in range(0, len(rows), CHUNK_LINES):
        part = rows[start : start + CHUNK_LINES]
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        header_lines = len(csv_import.LINE_BREAK.findall(buf.getvalue()))
        writer.writerows(fields for _, fields in part)
        out.append(Chunk(buf.getvalue().encode(), sum(1 for _, f in part if f), part[0][0], header_lines))
    return out


def check_token(token: str | None) -> str:
    """The token as it will be sent, or a ReviewsError saying what is wrong with it."""
    token = (token or "").strip()
    if not token:
        raise ReviewsError(NO_TOKEN)
    if not TOKEN_CHARS.fullmatch(token):
        raise ReviewsError("The admin token has spaces, control or non-ASCII characters in it: check what you pasted.")
    return token


def import_remote(url: str, token: str | None, business_unit: str, fmt: str, body: bytes) -> dict[str, Any]:
    """Post the file chunk by chunk and sum the counts; rejections carry the file's own line numbers."""
    token = check_token(token)
    next(csv_import.parse(body, fmt), None)  # a file in another format is refused before anything is sent
    chunks = _chunks(csv_import.decode(body), fmt)
    total: dict[str, Any] = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "rejections": []}
    kept: list[dict[str, Any]] = []
    ignored: dict[str, int] = {}
    endpoint = f"{url.rstrip('/')}/v1/admin/business-units/{business_unit}/imports"
    records = sum(chunk.records for chunk in chunks)
    with (
        httpx.Client(timeout=120) as client,
        tqdm(total=records, unit="review", desc="importing", file=sys.stderr) as bar,
    ):
        for n, chunk in enumerate(chunks):
            sent = f" (the first {bar.n:,} reviews were sent; sending the file again is safe)" if n else ""
            try:
                response = client.post(
                    endpoint,
                    params={"format": fmt},
                    content=chunk.body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                raise ReviewsError(f"Could not reach {url}: {exc}{sent}") from exc
            if response.status_code != 200:
                try:
                    detail = response.json().get("detail", response.text)
                except ValueError:
                    detail = response.text[:300]
                raise ReviewsError(f"{endpoint} answered {response.status_code}: {detail}{sent}")
            data = response.json()
            for key in ("inserted", "updated", "unchanged", "rejected"):
                total[key] += data[key]
            for name, count in data.get("ignored_fields", {}).items():
                ignored[name] = ignored.get(name, 0) + count
            # the server numbers lines within the chunk, whose first row follows the repeated header
            offset = chunk.first_line - chunk.header_lines - 1
            total["rejections"] += [{**r, "index": r["index"] + offset} for r in data["rejections"]]
            kept += [{**r, "index": r["index"] + offset} for r in data.get("status_kept", [])]
            bar.update(chunk.records)
    return {**total, "ignored_fields": ignored, "status_kept": kept}  # the same keys as an import into the store
