"""Security events from any service, published to one Redis stream.

The auth service owns the audit table and is its only writer: it reads this stream with a
consumer group and appends each event (``auth/audit_consumer.py``), so services that record
events (streaming's playback grants) never touch its tables. An event is published after the
action it records has happened; delivery is at least once, and the event id makes the append
idempotent.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field

STREAM = "streamcore:audit"
# The stream is a hand-off, not the record: trimmed once the consumer has long caught up.
MAX_LENGTH = 100_000


class AuditEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID = Field(default_factory=uuid.uuid4)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # e.g. signup, login, login_failed, refresh_reused, role_changed, device_signed_out,
    # playback_granted, support_read
    kind: str
    actor: str  # Principal.actor of who did it
    account_id: UUID | None = None
    profile_id: UUID | None = None
    session_id: UUID | None = None
    ip: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


async def publish(client: aioredis.Redis, event: AuditEvent) -> None:
    await client.xadd(
        STREAM, {"event": json.dumps(event.model_dump(mode="json"))},
        maxlen=MAX_LENGTH, approximate=True,
    )  # fmt: skip


def decode(fields: dict[bytes, bytes]) -> AuditEvent:
    return AuditEvent.model_validate_json(fields[b"event"])
