"""Every endpoint of the notifications service, declared once for its OpenAPI document, served at
/openapi/notifications.json (the gateway routes that prefix here)."""

from __future__ import annotations

from functools import cache
from typing import Any

from notifications import models as m
from streamcore.web import diagnostics
from streamcore.web.openapi import Operation, Param, Reply, build, health_operations

PATH = "/openapi/notifications.json"

SOCKET = """Upgrades to a WebSocket (101) that carries, as JSON text frames, the live messages \
(`NotificationOut`) of the channels the ticket's principal gets: its profile's progress and \
recommendations, its account's subscription and jobs, the `recommendations` broadcast, and \
`alerts` for admins. With `last_id`, what was published after that id is sent first (only the \
newest progress per asset), preceded by `{"type": "resync"}` when some of it is no longer kept. \
The server pings every `notifications.heartbeat_s` and closes a socket that does not answer; \
it closes every socket with 1001 when the instance stops (reconnect at once, with last_id), and \
with 1013 a client too slow to keep up. A missing, unknown, expired or used ticket is 401 \
before any upgrade (docs/notifications.md)."""

OPERATIONS: list[Operation] = [
    Operation("POST", "/v1/ws/tickets", "createSocketTicket",
              "A single-use ticket that opens one WebSocket", "notifications",
              {201: Reply("The ticket, its expiry and the socket's URL", m.TicketOut)},
              errors=(401, 503),
              description="Browsers cannot send Authorization on a WebSocket: trade the bearer "
              "token for a ticket, valid `notifications.ticket_ttl_s` and used once."),
    Operation("GET", "/v1/ws", "openSocket", "The live notifications' WebSocket",
              "notifications",
              {101: Reply("Switching protocols: the WebSocket; each text frame one message",
                          m.NotificationOut)},
              (Param("ticket", "query", {"type": "string"}, True,
                     "From POST /v1/ws/tickets; single use"),
               Param("last_id", "query", {"type": "string", "pattern": r"^\d+-\d+$"}, False,
                     "Resume: the id of the last message received")),
              errors=(400, 401, 503), description=SOCKET),
]  # fmt: skip

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
