"""The baseline of bench/widgets.py: one bare FastAPI route returning a constant 2 KB of HTML.

    uvicorn bench.bare_app:app --http httptools --loop uvloop --log-level warning --no-access-log

No middleware, no store, no validation: the least any FastAPI route costs under the same uvicorn
settings as the service. The route is `async def` (a plain `def` would add a thread-pool hop per
request and make the baseline slower than FastAPI can be). bench/widgets.py serves the same BODY
from nginx as a static file, so the two rows differ only in the server.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

BODY_SIZE = 2048


def _body() -> bytes:
    head = (
        b'<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Flinders Design reviews</title></head>'
        b'<body><div class="rv-badge" data-bu="flinders-nl"><span class="rv-score">8,9</span>'
        b'<span class="rv-stars" aria-label="4.5 van 5 sterren">'
        + b'<svg viewBox="0 0 24 24" width="16" height="16"><path d="M12 2l3 7h7l-6 4 2 7-6-4-6 4 2-7-6-4h7z"/></svg>'
        * 5
        + b'</span><span class="rv-count">1.234 beoordelingen</span></div><!-- '
    )
    tail = b" --></body></html>\n"
    return head + b"x" * (BODY_SIZE - len(head) - len(tail)) + tail


BODY = _body()
assert len(BODY) == BODY_SIZE

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/badge.html")
async def badge() -> Response:
    return Response(content=BODY, media_type="text/html")
