"""Request bodies of the viewer endpoints, validated by pydantic."""

from __future__ import annotations

import enum
import json
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# An id: printable ASCII, as every client-made id is (PostgreSQL text cannot hold NUL).
_ID = r"^[\x21-\x7e]+$"
# Year 9999 in milliseconds: beyond it a timestamp cannot be stored.
_MAX_EPOCH_MS = 253_402_300_799_999
_MAX_DETAIL_BYTES = 4096


class ProgressReason(enum.StrEnum):
    PERIODIC = "periodic"
    PAUSE = "pause"
    SEEK = "seek"
    HIDDEN = "hidden"
    ENDED = "ended"


class ProgressReport(_Body):
    position_s: float = Field(ge=0, le=7 * 86400)
    duration_s: float | None = Field(None, ge=0, le=7 * 86400)
    session_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    reason: ProgressReason = ProgressReason.PERIODIC


class EventType(enum.StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    SEEK = "seek"
    BUFFERING_START = "buffering_start"
    BUFFERING_END = "buffering_end"
    RENDITION_SWITCH = "rendition_switch"
    ERROR = "error"
    COMPLETE = "complete"


class PlaybackEvent(_Body):
    type: EventType
    position_s: float | None = Field(None, ge=0)
    at: int = Field(
        description="When it happened, in milliseconds since the epoch", ge=0, le=_MAX_EPOCH_MS
    )
    detail: dict[str, Any] = Field(default_factory=dict)

    @field_validator("detail")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        encoded = json.dumps(value)
        if "\\u0000" in encoded:
            raise ValueError("must not contain NUL characters")
        if len(encoded) > _MAX_DETAIL_BYTES:
            raise ValueError(f"must be at most {_MAX_DETAIL_BYTES} bytes as JSON")
        return value


class EventBatch(_Body):
    viewer_id: UUID = Field(description="The id from POST /v1/viewers")
    session_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    asset_id: UUID
    events: list[PlaybackEvent] = Field(min_length=1, max_length=100)
