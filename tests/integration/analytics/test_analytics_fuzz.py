"""Generated requests, valid and invalid, to every documented operation of the analytics
service (tests/openapi_fuzz.py): never a 500, every error JSON with its code, every answer as
documented. As the stack's service account (an admin), so that the admin reads are reached,
not only their 401/403; the collector's batches are generated too."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from analytics.openapi import document
from streamcore.settings import Settings
from tests.openapi_fuzz import fuzz

pytestmark = pytest.mark.stack


def test_fuzzing_the_analytics_service_finds_no_server_error(stack: Settings) -> None:
    schema = schemathesis.openapi.from_dict(document())
    key = stack.auth.service_key().get_secret_value()
    # To the instance itself, whose /healthz, /readyz and /metrics the gateway does not route.
    call = {"base_url": stack.analytics.url, "headers": {"Authorization": f"Bearer {key}"}}
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, {}, call, statuses)
    assert sum(statuses.values()) >= 150, statuses
    assert sum(n for s, n in statuses.items() if s < 300) >= 40, statuses
