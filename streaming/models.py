"""The streaming service's request and response bodies (pydantic; they also make its OpenAPI).

Requests are validated by these models (streamcore/web/validation.py); responses are built as
plain dicts by the handlers and documented by the `...Out` models, which the schemathesis run
(tests/integration/test_streaming_openapi.py) checks real answers against.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# An id: printable ASCII, as every client-made id is (PostgreSQL text cannot hold NUL).
_ID = r"^[\x21-\x7e]+$"
# Year 9999 in milliseconds: beyond it a timestamp cannot be stored.
_MAX_EPOCH_MS = 253_402_300_799_999
_MAX_POSITION_S = 7 * 86400


class PlaybackParams(BaseModel):
    """GET /v1/playback/{asset_id}'s query string."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ttl: int | None = Field(
        None, ge=60, le=7 * 86400,
        description="Seconds the URLs stay valid; default: origin.playback_ttl_s",
    )  # fmt: skip
    session_id: UUID | None = Field(
        None,
        description=(
            "The player's playback session (a UUID it made), signed into the URLs' token as "
            "its `sid`: its events and CMCD data carry the same id. Without a stream slot only; "
            "a signed-in viewer's session is its slot's"
        ),
    )


class ProgressReason(enum.StrEnum):
    PERIODIC = "periodic"
    PAUSE = "pause"
    SEEK = "seek"
    HIDDEN = "hidden"
    ENDED = "ended"


class ProgressReport(_Body):
    position_s: float = Field(ge=0, le=_MAX_POSITION_S)
    duration_s: float | None = Field(None, ge=0, le=_MAX_POSITION_S)
    session_id: str = Field(min_length=1, max_length=64, pattern=_ID)
    reason: ProgressReason = ProgressReason.PERIODIC
    at: int | None = Field(
        None, ge=0, le=_MAX_EPOCH_MS,
        description="When the position was true, in milliseconds since the epoch, by the "
        "client's clock (default: when the report arrives). The newest report wins: two "
        "devices, and retries, agree on the latest position",
    )  # fmt: skip


_HEARTBEAT = Field(description="Seconds between the player's heartbeats")


class ProgressQuery(BaseModel):
    """GET /v1/progress's query string."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile_id: UUID | None = Field(
        None,
        description="Whose progress: default the caller's profile; another profile's only "
        "for an admin (a support read, audited)",
    )
    limit: int = Field(100, ge=1, le=500, description="At most this many, latest first")


class SessionStart(_Body):
    asset_id: UUID = Field(description="The asset the viewer starts watching")


class Heartbeat(_Body):
    position_s: float = Field(ge=0, le=_MAX_POSITION_S, description="Where the viewer is now")


# -- responses (documentation of what the handlers build) -------------------------------------


class PlaybackSourceOut(BaseModel):
    name: str
    kind: Literal["cdn", "origin"]
    hls: str
    dash: str
    poster: str | None = None
    storyboard: str | None = None


class PlaybackOut(BaseModel):
    asset_id: UUID
    version: int
    expires_at: int = Field(description="Unix seconds")
    sources: list[PlaybackSourceOut] = Field(
        description="Every CDN, primary first, then the origin"
    )
    renditions: list[str] | None = Field(
        None,
        description="The renditions the URLs open, as the viewer's plan allows; absent: all",
    )


class ViewerOut(BaseModel):
    viewer_id: UUID


class ProgressOut(BaseModel):
    position_s: float
    duration_s: float | None
    updated_at: datetime


class AssetProgressOut(ProgressOut):
    asset_id: UUID


class ProgressList(BaseModel):
    profile_id: UUID
    items: list[AssetProgressOut] = Field(description="Latest first")


class ClaimOut(BaseModel):
    viewer_id: UUID
    profile_id: UUID
    progress: int = Field(description="Watch positions moved to the profile by this call")
    events: int = Field(description="Playback events moved to the profile by this call")


class SessionOut(BaseModel):
    session_id: UUID
    asset_id: UUID
    started_at: datetime
    heartbeat_at: datetime
    position_s: float | None
    expires_at: datetime = Field(
        description="When the session counts as ended unless a heartbeat comes first"
    )
    heartbeat_s: int = _HEARTBEAT
    profile_id: UUID | None = Field(None, description="Signed in: the profile watching")
    device_id: UUID | None = Field(None, description="Signed in: the device (its sign-in)")
    user_agent: str | None = None
    playback: PlaybackOut | None = Field(
        None,
        description="Heartbeats of a signed-in session: fresh playback URLs, valid for "
        "streaming.playback_token_ttl_s (the previous ones expire on their own)",
    )


class SessionStarted(BaseModel):
    session_id: UUID
    asset_id: UUID
    started_at: datetime
    heartbeat_s: int = _HEARTBEAT
    playback: PlaybackOut = Field(
        description="The same as GET /v1/playback/{asset_id}; signed in, valid for "
        "streaming.playback_token_ttl_s and renewed by each heartbeat"
    )


class StreamOut(BaseModel):
    """A stream holding one of the account's slots (`error.streams` of a too_many_streams)."""

    session_id: UUID = Field(description="End it with DELETE /v1/sessions/{session_id}")
    device_id: UUID | None
    asset_id: UUID
    profile_id: UUID
    user_agent: str | None
    started_at: datetime


class SessionList(BaseModel):
    items: list[SessionOut] = Field(
        description="The viewer's active sessions, newest first; signed in, the account's "
        "(every profile and device)"
    )
