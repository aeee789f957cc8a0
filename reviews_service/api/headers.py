"""Headers every answer carries, and gzip where it pays: one pure-ASGI layer around the routes.

- Every answer: `X-Content-Type-Options: nosniff` (no guessing a JSON body is HTML) and a
  `Referrer-Policy` that sends other sites the origin only, never a page's path and query.
- `/v1/admin/...`: `Cache-Control: no-store`, error answers included: they carry reviewers'
  e-mail addresses, which no browser or proxy cache may keep.
- The public `/v1/business-units/...` reads and the demo pages: gzip when `Accept-Encoding` allows it
  (`Vary: Accept-Encoding` either way). Only these: admin answers mix secrets with what the caller
  sent, where compression leaks (BREACH), and streamed answers (exports) pass untouched.

The widget fast path (widgets/asgi.py) answers before this layer and sends the same constant
headers itself (`EVERY_ANSWER`). The public reads' ETags come from `cache.strong_etag`.
"""

from __future__ import annotations

import gzip

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviews_service.cache import request_header

EVERY_ANSWER = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
ADMIN_PREFIX = "/v1/admin"
GZIP_PREFIXES = ("/v1/business-units/", "/demo")
GZIP_TYPES = ("text/html", "text/css", "application/json", "image/svg+xml")
GZIP_MIN_BYTES = 512  # below this the gzip header and a round trip cost more than they save


def accepts_gzip(accept_encoding: bytes) -> bool:
    """Whether an Accept-Encoding value allows gzip (RFC 9110 12.5.3), as the widgets decide it."""
    from widgets.asgi import accepts_gzip as widgets_accepts_gzip  # the one parser; imported late (no cycle)

    return widgets_accepts_gzip(accept_encoding)


class ResponseHeaders:
    """Adds the constant headers, `no-store` on admin routes and gzip on the public reads and demo pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        compressible = scope["method"] == "GET" and path.startswith(GZIP_PREFIXES)
        gzip_ok = compressible and accepts_gzip(request_header(scope, b"accept-encoding") or b"")
        held: Message | None = None  # a compressible answer's start, sent once its body is known

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                stamp(headers, path)
                if compressible:
                    headers.add_vary_header("Accept-Encoding")
                    if gzip_ok and _compressible(headers):
                        held = message
                        return
                await send(message)
                return
            if held is not None and message["type"] == "http.response.body":
                start, held = held, None
                body: bytes = message.get("body", b"")
                if not message.get("more_body") and len(body) >= GZIP_MIN_BYTES:
                    body = gzip.compress(body, 6)
                    headers = MutableHeaders(scope=start)
                    headers["content-encoding"] = "gzip"
                    headers["content-length"] = str(len(body))
                    message = {**message, "body": body}
                await send(start)  # a streamed answer (more_body) goes out as it comes, uncompressed
            await send(message)

        await self.app(scope, receive, send_with_headers)


def stamp(headers: MutableHeaders, path: str) -> None:
    """The constant headers, and `no-store` under /v1/admin; also for the 500 answer, which is sent outside us."""
    for name, value in EVERY_ANSWER:
        if name.decode() not in headers:
            headers.append(name.decode(), value.decode())
    if path.startswith(ADMIN_PREFIX):
        headers["cache-control"] = "no-store"


def _compressible(headers: MutableHeaders) -> bool:
    content_type = headers.get("content-type", "")
    return "content-encoding" not in headers and content_type.startswith(GZIP_TYPES)
