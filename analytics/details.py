"""What each event type's `detail` holds (the player's wire format, docs/analytics.md).

Checked by the collector (a bad detail is a 400 naming the field) and again by the processor
before it stores an event, so that the rollups' SQL can read these fields with plain casts.
Unknown extra fields are kept: a newer player may send more than this version reads.
"""

from __future__ import annotations

import enum
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class EventType(enum.StrEnum):
    START = "start"
    FIRST_FRAME = "first_frame"
    PAUSE = "pause"
    RESUME = "resume"
    BUFFERING_START = "buffering_start"
    BUFFERING_END = "buffering_end"
    RENDITION_SWITCH = "rendition_switch"
    SEEK = "seek"
    ERROR = "error"
    COMPLETE = "complete"
    HEARTBEAT = "heartbeat"


MAX_DETAIL_BYTES = 2048
_MAX_MS = 86_400_000
_KBPS = Field(ge=0, le=1_000_000)


class _Detail(BaseModel):
    model_config = ConfigDict(extra="allow")


class Start(_Detail):
    engine: str | None = Field(None, max_length=64)
    autoplay: bool | None = None


class Buffering(_Detail):
    # Buffering a seek caused is not a rebuffer (it is the viewer's doing).
    cause: Literal["seek"] | None = None


class BufferingEnd(Buffering):
    duration_ms: int = Field(ge=0, le=_MAX_MS)


class RenditionSwitch(_Detail):
    rendition: str = Field(min_length=1, max_length=32)
    bitrate_kbps: int = _KBPS
    from_rendition: str | None = Field(None, max_length=32)
    from_bitrate_kbps: int | None = Field(None, ge=0, le=1_000_000)
    reason: Literal["abr", "manual"]


class Seek(_Detail):
    from_s: float = Field(ge=0)
    to_s: float = Field(ge=0)


class Error(_Detail):
    fatal: bool
    code: str | int | None = None
    message: str | None = Field(None, max_length=1000)


class Heartbeat(_Detail):
    rendition: str = Field(min_length=1, max_length=32)
    bitrate_kbps: int = _KBPS
    # Media played since the previous heartbeat (or the first frame), in ms.
    played_ms: int = Field(ge=0, le=_MAX_MS)


DETAILS: dict[EventType, type[_Detail]] = {
    EventType.START: Start,
    EventType.FIRST_FRAME: _Detail,
    EventType.PAUSE: _Detail,
    EventType.RESUME: _Detail,
    EventType.BUFFERING_START: Buffering,
    EventType.BUFFERING_END: BufferingEnd,
    EventType.RENDITION_SWITCH: RenditionSwitch,
    EventType.SEEK: Seek,
    EventType.ERROR: Error,
    EventType.COMPLETE: _Detail,
    EventType.HEARTBEAT: Heartbeat,
}


def unstorable(detail: dict[str, Any]) -> str | None:
    """Why PostgreSQL's jsonb could not hold `detail` (None when it can): NaN or Infinity
    (JSON has neither, though parsers accept them), NUL, or more than MAX_DETAIL_BYTES."""
    try:
        encoded = json.dumps(detail, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return "must not contain NaN or Infinity"
    if "\\u0000" in encoded:
        return "must not contain NUL characters"
    if len(encoded.encode()) > MAX_DETAIL_BYTES:
        return f"must be at most {MAX_DETAIL_BYTES} bytes as JSON"
    return None


def checked(kind: EventType, detail: dict[str, Any]) -> dict[str, Any]:
    """`detail` checked against its type's model (ValidationError names the bad field)."""
    DETAILS[kind].model_validate(detail)
    return detail


def problem(kind: EventType, detail: dict[str, Any]) -> str | None:
    """Why `detail` does not fit its type or cannot be stored (None when it is fine)."""
    if (found := unstorable(detail)) is not None:
        return found
    try:
        checked(kind, detail)
    except ValidationError as exc:
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'detail'}: {e['msg']}" for e in exc.errors()
        )
    return None
