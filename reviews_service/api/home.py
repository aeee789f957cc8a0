"""The front door: `GET /` (links to the demo, the docs and health) and `/docs` with its assets served locally.

FastAPI's own `/docs` loads Swagger UI from a CDN, so it is blank offline and behind strict firewalls. The
`fastapi-offline` package ships the same Swagger UI 5 files; we serve them from there under `/docs/assets/`.
"""

from __future__ import annotations

from html import escape
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from reviews_service import __version__
from reviews_service.errors import NotFound

router = APIRouter(include_in_schema=False)

ASSETS_URL = "/docs/assets"
# name -> content type; nothing outside this list is served from the package's directory
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}
HOME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"
LINKS = (
    ("/demo", "Demo shop", "the Flinders Design demo shop, with every widget on it"),
    ("/docs", "API docs", "every endpoint, to try out in the browser"),
    ("/openapi.json", "OpenAPI document", "the same, for code generators and test tools"),
    ("/health", "Health", "liveness, version and which store the service uses"),
)


def _assets_dir() -> Path:
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


@router.get("/")
def home() -> Response:
    """A small page linking the demo shop, the API docs and the health check."""
    items = "\n".join(f'<li><a href="{href}">{escape(label)}</a>: {escape(what)}</li>' for href, label, what in LINKS)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="Reviews service: rating summaries, star widgets and rich snippets.">
<title>Reviews service</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}</style>
</head>
<body>
<h1>Reviews service <small>{escape(__version__)}</small></h1>
<ul>
{items}
</ul>
</body>
</html>
"""
    headers = {"Content-Security-Policy": HOME_CSP, "Cache-Control": "no-cache"}
    return HTMLResponse(page, headers=headers)


@router.get("/docs")
def docs(request: Request) -> Response:
    """Swagger UI for this service, with every asset served by the service itself."""
    app = request.app
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - API docs",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        # null: no badge image fetched from the online validator (swagger.io)
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
def redoc(request: Request) -> Response:
    """The same API reference rendered by ReDoc, also without a CDN."""
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )


@router.get(ASSETS_URL + "/{name}")
def docs_asset(name: str) -> Response:
    """One of Swagger UI's files, as shipped by the fastapi-offline package."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"No docs asset '{name[:100]}'; there are: {', '.join(ASSETS)}.")
    return FileResponse(_assets_dir() / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
