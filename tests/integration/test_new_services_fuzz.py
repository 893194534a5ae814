"""Generated requests, valid and invalid, to every documented operation of the analytics and
notifications services (tests/openapi_fuzz.py): never a 500, every error JSON with its code,
every answer as documented. As the stack's service account (an admin), so that the admin
reads are reached, not only their 401/403; the collector's batches and the tickets' requests
are generated too (a WebSocket opened without a valid ticket is refused before the upgrade)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from analytics import openapi as analytics_openapi
from notifications import openapi as notifications_openapi
from streamcore.settings import Settings
from tests.openapi_fuzz import fuzz

pytestmark = pytest.mark.stack


# (service, its document, least cases sent, least answered 2xx): notifications documents two
# operations of its own beside health, metrics and its document.
SERVICES = [
    ("analytics", analytics_openapi.document, 150, 40),
    ("notifications", notifications_openapi.document, 40, 10),
]


@pytest.mark.parametrize(("service", "document", "cases", "successes"), SERVICES)
def test_fuzzing_finds_no_server_error(
    stack: Settings,
    service: str,
    document: Callable[[], dict[str, Any]],
    cases: int,
    successes: int,
) -> None:
    schema = schemathesis.openapi.from_dict(document())
    key = stack.auth.service_key().get_secret_value()
    # To the instance itself, whose /healthz, /readyz and /metrics the gateway does not route.
    url = stack.service(service).url
    call = {"base_url": url, "headers": {"Authorization": f"Bearer {key}"}}
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, {}, call, statuses)
    assert sum(statuses.values()) >= cases, statuses
    assert sum(n for s, n in statuses.items() if s < 300) >= successes, statuses
