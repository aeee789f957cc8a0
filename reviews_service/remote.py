"""`reviews import --url`: send a file to a running service's import endpoint in chunks, with progress."""

from __future__ import annotations

import sys
from typing import Any

import httpx
from tqdm import tqdm

from reviews_service.errors import ReviewsError

CHUNK_LINES = 1000


def _chunks(body: bytes, fmt: str) -> list[bytes]:
    """Split a CSV/JSONL file into bodies of CHUNK_LINES records, repeating the CSV header."""
    text = body.decode("utf-8-sig")
    if fmt == "jsonl":
        lines = text.splitlines(keepends=True)
        return ["".join(lines[i : i + CHUNK_LINES]).encode() for i in range(0, len(lines), CHUNK_LINES)] or [b""]
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return [body]
    header, records = rows[0], rows[1:]
    out = []
    for i in range(0, max(len(records), 1), CHUNK_LINES):
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows(records[i : i + CHUNK_LINES])
        out.append(buf.getvalue().encode())
    return out


def import_remote(url: str, token: str, business_unit: str, fmt: str, body: bytes) -> dict[str, Any]:
    """Post the file chunk by chunk; sums the counts (rejection line numbers are per chunk's offset)."""
    total: dict[str, Any] = {"inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "rejections": []}
    chunks = _chunks(body, fmt)
    endpoint = f"{url.rstrip('/')}/v1/admin/business-units/{business_unit}/imports"
    with httpx.Client(timeout=120) as client, tqdm(total=len(chunks), unit="chunk", file=sys.stderr) as bar:
        for n, chunk in enumerate(chunks):
            try:
                response = client.post(
                    endpoint,
                    params={"format": fmt},
                    content=chunk,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                raise ReviewsError(f"Could not reach {url}: {exc}") from exc
            if response.status_code != 200:
                try:
                    detail = response.json().get("detail", response.text)
                except ValueError:
                    detail = response.text[:300]
                raise ReviewsError(f"{endpoint} answered {response.status_code}: {detail}")
            data = response.json()
            for key in ("inserted", "updated", "unchanged", "rejected"):
                total[key] += data[key]
            offset = n * CHUNK_LINES
            total["rejections"] += [{**r, "index": r["index"] + offset} for r in data["rejections"]]
            bar.update(1)
    return total
