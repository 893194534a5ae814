"""Every endpoint of the analytics service, declared once for its OpenAPI document, served at
/openapi/analytics.json (the gateway routes that prefix here)."""

from __future__ import annotations

from functools import cache
from typing import Any

from streamcore.web import diagnostics
from streamcore.web.openapi import Operation, build, health_operations

PATH = "/openapi/analytics.json"

OPERATIONS: list[Operation] = []

DESCRIPTION = """StreamCore's analytics service: the players' playback events (collected into a
Redis stream, processed exactly once), viewers' quality of experience per session, title,
rendition and minute, platform metrics, alerts and the admin dashboard (docs/analytics.md).

Every error is JSON, `{"error": {"code": "...", "message": "..."}}`, with a stable `code`."""


@cache
def document() -> dict[str, Any]:
    operations = [
        *OPERATIONS,
        *health_operations("requests"),
        diagnostics.operation("analytics"),
    ]
    return build(
        operations, title="StreamCore analytics API", version="1", description=DESCRIPTION,
        api_key="An access token from POST /v1/auth/login, or a service account's key",
    )  # fmt: skip
