"""The caching nginx of docker-compose (deploy/nginx/reviews.conf), run for real in front of `reviews serve`.

The real nginx binary, with the shipped config (only its upstream, cache path and listen address
rewritten, as bench/widgets.py does), proxies the session's live server on 127.0.0.1. What a shop
relies on at peak: repeat widget requests are answered from the cache, gzip and identity clients get
their own correct copy however their browser spells Accept-Encoding, and credentials or admin
routes never go through the cache.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bench.widgets import NGINX_CONF, local_reviews_conf
from tests.conftest import LIVE_ADMIN_TOKEN, free_port, serving, stop_process, wait_until_up

BADGE = "/widgets/flinders-nl/badge.html"


@contextmanager
def nginx_in_front(nginx_binary: str, upstream_url: str, access_log: Path | None = None) -> Iterator[str]:
    """The real nginx with the shipped reviews.conf, proxying `upstream_url`; yields its base URL. `access_log`:
    where nginx logs requests in its `combined` format, as the nginx image does (default: no access log)."""
    # Not under pytest's 0700 tmp dir: nginx workers started by root run as an unprivileged user.
    workdir = Path(tempfile.mkdtemp(prefix="reviews-nginx-"))
    os.chmod(workdir, 0o755)
    port = free_port()
    upstream = upstream_url.removeprefix("http://")
    (workdir / "reviews.conf").write_text(
        local_reviews_conf(NGINX_CONF.read_text(encoding="utf-8"), upstream, workdir / "cache", f"127.0.0.1:{port}"),
        encoding="utf-8",
    )
    (workdir / "nginx.conf").write_text(
        "daemon off;\nworker_processes 1;\n"
        f"pid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{ access_log {access_log or 'off'}; include {workdir / 'reviews.conf'}; }}\n",
        encoding="utf-8",
    )
    argv = [nginx_binary, "-p", f"{workdir}/", "-e", str(workdir / "error.log"), "-c", str(workdir / "nginx.conf")]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    error_log = workdir / "error.log"
    try:
        wait_until_up(
            proc, f"{url}/nginx-health", 20, "nginx", lambda: error_log.read_text() if error_log.exists() else ""
        )
        yield url
    finally:
        stop_process(proc, grace=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def cache_url(live_server: str, nginx_binary: str) -> Iterator[str]:
    with nginx_in_front(nginx_binary, live_server) as url:
        yield url


def _get(url: str, accept_encoding: str | None = None, **headers: str) -> tuple[httpx.Response, bytes]:
    """A GET as wrk or a browser sends it: the Accept-Encoding given (none when None); the body as it came
    over the wire (not decoded)."""
    sent = dict(headers)
    if accept_encoding is not None:
        sent["Accept-Encoding"] = accept_encoding
    with httpx.Client(timeout=10, trust_env=False) as http:
        del http.headers["accept-encoding"]
        with http.stream("GET", url, headers=sent) as response:
            return response, b"".join(response.iter_raw())


def _unique(path: str) -> str:
    """A URL nobody has asked the cache for yet (the service ignores unknown parameters)."""
    return f"{path}?locale=nl&test={uuid.uuid4().hex}"


def test_repeat_requests_are_cache_hits_with_the_api_headers(live_server: str, cache_url: str) -> None:
    path = _unique(BADGE)
    (first, _), (second, body) = _get(cache_url + path), _get(cache_url + path)
    direct, direct_body = _get(live_server + path)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-cache-status"] == "MISS" and second.headers["x-cache-status"] == "HIT"
    assert body == direct_body and b"rw-badge" in body, "the cached copy is the API's answer, byte for byte"
    assert second.headers["etag"] == direct.headers["etag"]
    assert second.headers["cache-control"] == direct.headers["cache-control"], "nginx passes the API's validity on"
    assert second.headers.get_list("vary") == ["Accept-Encoding"], "exactly one Vary header reaches browsers"


def test_browsers_share_one_gzip_copy_and_identity_clients_get_plain_bytes(cache_url: str) -> None:
    path = _unique(BADGE)
    chrome, _ = _get(cache_url + path, "gzip, deflate, br, zstd")
    safari, zipped = _get(cache_url + path, "gzip, deflate, br")
    assert chrome.headers["x-cache-status"] == "MISS"
    assert safari.headers["x-cache-status"] == "HIT", "a second browser's Accept-Encoding spelling hits the same copy"
    assert chrome.headers["content-encoding"] == safari.headers["content-encoding"] == "gzip"
    plain, body = _get(cache_url + path)
    plain_again, body_again = _get(cache_url + path, "identity")
    assert plain.headers["x-cache-status"] == "MISS" and plain_again.headers["x-cache-status"] == "HIT"
    assert "content-encoding" not in plain.headers and "content-encoding" not in plain_again.headers
    assert gzip.decompress(zipped) == body == body_again and b"rw-badge" in body
    refusing, refused_body = _get(cache_url + path, "br, gzip;q=0")
    assert refusing.headers["x-cache-status"] == "HIT" and "content-encoding" not in refusing.headers
    assert refused_body == body, "gzip;q=0 gets the plain copy"


def test_requests_with_credentials_bypass_the_cache(cache_url: str) -> None:
    path = _unique(BADGE)
    _get(cache_url + path)
    with_token, _ = _get(cache_url + path, Authorization=f"Bearer {LIVE_ADMIN_TOKEN}")
    assert with_token.status_code == 200 and with_token.headers["x-cache-status"] == "BYPASS"


def test_admin_routes_go_straight_through_uncached(cache_url: str) -> None:
    url = f"{cache_url}/v1/admin/business-units/flinders-nl/products"
    denied, _ = _get(url)
    assert denied.status_code == 401 and "x-cache-status" not in denied.headers
    allowed, _ = _get(url, Authorization=f"Bearer {LIVE_ADMIN_TOKEN}")
    assert allowed.status_code == 200 and "x-cache-status" not in allowed.headers
    assert _get(url)[0].status_code == 401, "an admin answer is never served to the next caller"


def test_a_review_form_s_token_never_reaches_nginx_s_access_log(
    live_server: str, nginx_binary: str, tmp_path: Path
) -> None:
    """/r/{token} is a buyer's working link to their review form: nginx proxies it uncached, and the access log
    (on in the nginx image, at http level) keeps other requests' lines but no line holding a form token."""
    os.chmod(tmp_path, 0o755)  # nginx's workers (an unprivileged user when run as root) write the log
    log = tmp_path / "access.log"
    token = f"SECRET-{uuid.uuid4().hex}"
    with nginx_in_front(nginx_binary, live_server, access_log=log) as url, httpx.Client(timeout=10) as http:
        summary = http.get(f"{url}/v1/business-units/flinders-nl/summary")
        form = http.get(f"{url}/r/{token}?locale=en")
        posted = http.post(f"{url}/r/{token}", data={"rating": "5"})
        thanks = http.get(f"{url}/r/{token}/thanks")
    assert summary.status_code == 200
    for answer in (form, posted, thanks):  # the API's own answer to a bad link, through nginx, never cached
        assert 400 <= answer.status_code < 500 and "x-cache-status" not in answer.headers, answer.status_code
        assert answer.headers.get("x-request-id")
    logged = log.read_text(encoding="utf-8")
    assert "/v1/business-units/flinders-nl/summary" in logged, logged
    assert token not in logged, logged


def test_the_public_post_rate_is_per_real_client_whatever_x_forwarded_for_says(
    nginx_binary: str, tmp_path: Path
) -> None:
    """Behind nginx every request comes from nginx's address: the limiter must key on the client nginx saw,
    and a client cannot buy itself fresh buckets by sending its own X-Forwarded-For."""
    env = {"REVIEWS_ADMIN_TOKEN": LIVE_ADMIN_TOKEN, "REVIEWS_PUBLIC_POSTS_PER_MINUTE": "3", "REVIEWS_LOAD_DEMO": "0"}
    with (
        serving(tmp_path / "serve.log", REVIEWS_DATA_DIR=str(tmp_path / "data"), **env) as (api, _),
        nginx_in_front(nginx_binary, api) as url,
        httpx.Client(timeout=10) as http,
    ):
        statuses = [
            http.post(
                f"{url}/seo/validate",
                content=b"<html><body>hi</body></html>",
                headers={"Content-Type": "text/html", "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(6)  # bounded: twice the per-minute budget
        ]
    assert statuses[:3] == [200, 200, 200], statuses
    assert 429 in statuses[3:], f"spoofed X-Forwarded-For values each got a fresh bucket: {statuses}"
