"""The streaming service's OpenAPI document: valid OpenAPI 3.1, for signed-in viewers (a
bearer token, optional where anonymous playback is allowed), every path one the gateway sends
to the streaming service."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from streamcore.auth.roles import Permission
from streamcore.settings import Settings
from streaming.openapi import document
from streaming.permissions import PERMISSIONS


def test_the_document_is_valid_openapi_3_1_with_every_error_our_error_body() -> None:
    spec = document()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            played = PERMISSIONS[f"{method.upper()} {path}"] is Permission.PLAY
            # A token, or (where anonymous playback is allowed) nothing.
            assert operation["security"] == ([{"apiKey": []}, {}] if played else []), path
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)


def test_every_api_path_is_routed_to_the_streaming_service_by_the_gateway(
    settings: Settings,
) -> None:
    for path in document()["paths"]:
        if not path.startswith("/v1/"):
            continue  # health and metrics: each instance's own, checked by the gateway
        # A path as a client sends it: its parameters filled in.
        concrete = re.sub(r"\{[^}]+\}", "1a2b", path)
        assert settings.gateway.service_for(concrete) == "streaming", path


def test_a_session_start_answers_with_the_playback_body() -> None:
    schemas = document()["components"]["schemas"]
    started = schemas["SessionStarted"]
    assert set(started["required"]) == {
        "session_id", "asset_id", "started_at", "heartbeat_s", "playback"
    }  # fmt: skip
    assert started["properties"]["playback"]["$ref"] == "#/components/schemas/PlaybackOut"
    assert "heartbeat_s" in started["properties"]


def test_the_refusals_of_accounts_are_documented() -> None:
    spec = document()
    start = spec["paths"]["/v1/sessions"]["post"]
    assert {"401", "403", "409"} <= set(start["responses"])
    assert "too_many_streams" in start["description"] and "restricted" in start["description"]
    stream = spec["components"]["schemas"]["StreamOut"]
    assert {"session_id", "device_id", "asset_id", "started_at", "user_agent"} <= set(
        stream["properties"]
    )
    assert "403" in spec["paths"]["/v1/playback/{asset_id}"]["get"]["responses"]
