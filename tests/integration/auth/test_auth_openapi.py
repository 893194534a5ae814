"""The auth service's OpenAPI document: served, complete, and true to the service.

The fuzz run (tests/openapi_fuzz.py) sends generated requests, valid and invalid, to the
stack's auth instance, as an admin person (every operation is open to it), from a client
address of its own so that its failed sign-ins throttle nobody else.
"""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate
from schemathesis.generation import GenerationMode

from auth.app import create_app
from auth.openapi import PATH, document
from streamcore.settings import Settings
from tests.integration.auth.auth_http import login, new_email, random_ip
from tests.openapi_fuzz import fuzz
from tests.openapi_routes import served_routes

pytestmark = pytest.mark.stack

UNDOCUMENTED = re.compile(r"^/openapi/")


async def test_the_served_document_is_valid_and_documents_every_route(stack: Settings) -> None:
    async with TestClient(TestServer(create_app(stack))) as client:
        response = await client.get(PATH)
        assert response.status == 200 and response.content_type == "application/json"
        spec = await response.json()
        validate(spec)
        assert spec == document()
        documented = {
            (method.upper(), path)
            for path, operations in document()["paths"].items()
            for method in operations
        }
        assert served_routes(client.app, UNDOCUMENTED) == documented


def _admin_person(http: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    """An admin account's tokens, and the ids fuzzing may name."""
    email = new_email("fuzz")
    created = http.post("/v1/admin/accounts", headers=admin, json={"email": email, "role": "admin"})
    assert created.status_code == 201, created.text
    tokens = login(http, email, created.json()["password"], device="fuzz").json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    extra = http.post("/v1/profiles", headers=bearer, json={"name": "spare", "maturity": "teen"})
    return {
        "token": tokens["access_token"],
        "account_id": created.json()["account"]["id"],
        "profile_id": tokens["profile_id"],
        "spare_profile_id": extra.json()["id"],
        "device_id": tokens["device_id"],
    }


def test_fuzzing_the_auth_service_finds_no_server_error(
    stack: Settings, http: httpx.Client, admin: dict[str, str]
) -> None:
    assert http.get(PATH).json() == document()  # through the gateway
    schema = schemathesis.openapi.from_dict(document())
    person = _admin_person(http, admin)
    call = {
        "base_url": stack.auth.url,
        "headers": {"Authorization": f"Bearer {person['token']}", "X-Forwarded-For": random_ip()},
    }
    known_ids = {
        "profile_id": [person["profile_id"], person["spare_profile_id"]],
        "device_id": [person["device_id"]],
        "account_id": [person["account_id"]],
    }
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, known_ids, call, statuses)
    assert sum(statuses.values()) >= 300, statuses
    assert sum(n for s, n in statuses.items() if s < 300) >= 60, statuses
