"""Every endpoint of the notifications service, declared once for its OpenAPI document, served at
/openapi/notifications.json (the gateway routes that prefix here)."""

from __future__ import annotations

from functools import cache
from typing import Any

from streamcore.web import diagnostics
from streamcore.web.openapi import Operation, build, health_operations

PATH = "/openapi/notifications.json"

OPERATIONS: list[Operation] = []

DESCRIPTION = """StreamCore's notifications service: one WebSocket per signed-in client
(`/v1/ws`, opened with a short-lived ticket), live watch progress, subscription changes,
recommendation refreshes, upload job status and alerts, replayed after a reconnect
(docs/notifications.md).

Every error is JSON, `{"error": {"code": "...", "message": "..."}}`, with a stable `code`."""


@cache
def document() -> dict[str, Any]:
    operations = [
        *OPERATIONS,
        *health_operations("requests"),
        diagnostics.operation("notifications"),
    ]
    return build(
        operations, title="StreamCore notifications API", version="1", description=DESCRIPTION,
        api_key="An access token from POST /v1/auth/login, or a service account's key",
    )  # fmt: skip
