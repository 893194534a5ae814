"""Request bodies of the viewer endpoints, validated by pydantic."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProgressReason(enum.StrEnum):
    PERIODIC = "periodic"
    PAUSE = "pause"
    SEEK = "seek"
    HIDDEN = "hidden"
    ENDED = "ended"


class ProgressReport(_Body):
    position_s: float = Field(ge=0, le=7 * 86400)
    duration_s: float | None = Field(None, ge=0, le=7 * 86400)
    session_id: str = Field(min_length=1, max_length=64)
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
    at: int = Field(description="When it happened, in milliseconds since the epoch", ge=0)
    detail: dict[str, Any] = Field(default_factory=dict)


class EventBatch(_Body):
    viewer_id: str = Field(min_length=1, max_length=64)
    session_id: str = Field(min_length=1, max_length=64)
    asset_id: str = Field(min_length=1, max_length=64)
    events: list[PlaybackEvent] = Field(min_length=1, max_length=100)
