"""schemathesis against /openapi.json: no input gives a 500, and no answer contradicts the document.

The whole app runs in-process (the widgets' fast path included), on the demo shop, with the admin token, so
generated paths resolve to real business units, products and reviews about half of the time and to unknown ones
the other half. Bounded: 30 examples per operation and a deadline per example (about 30 s in all on 2 cores).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reviews_service import demo, repository, store
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.state import ServiceState
from tests.conftest import ADMIN_TOKEN, NOW, make_settings

schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # import bodies are text files
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DEMO_BU = "flinders-nl"


# no scheduler runs beside this app: /ready's 503 for a missing scheduler is by design, not the server erring
APP = create_app(make_settings(REVIEWS_READY_SCHEDULER="false"), connect=False)
APP.dependency_overrides[now_dep] = lambda: NOW
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def _demo_shop() -> Iterator[None]:
    """The demo shop in an in-memory store, and the ids of a few of its real objects."""
    state: ServiceState = APP.state.service_state
    store.connect(APP.state.settings)
    store.drop_all()
    demo.load(state, NOW)
    KNOWN.update(
        bu=DEMO_BU,
        sku=sorted(repository.catalogue(DEMO_BU))[0],
        review_id=repository.list_published(state, DEMO_BU, limit=1).items[0].id,
    )
    yield
    store.drop_all()
    store.disconnect()


@schema.hook
def map_path_parameters(_: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Point about half of the generated paths at the demo shop's real objects (the rest stay unknown)."""
    for name, value in list((path_parameters or {}).items()):
        if name in KNOWN and zlib.crc32(repr(value).encode()) % 2 == 0:
            path_parameters[name] = KNOWN[name]  # type: ignore[index]
    return path_parameters


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=10_000,  # per example: generous on a loaded CI machine, still catches a route that hangs
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
def test_the_api_keeps_its_contract(case: Any) -> None:
    """Every generated request gets an answer the document allows, and never a 500."""
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS)
