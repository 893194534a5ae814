"""The analytics service's request bodies and the events it carries (pydantic; they also make
its OpenAPI). The player's wire format is `EventBatch`; what goes through the Redis stream to
the processor is `StreamEvent` (a batch's event with the batch's and the caller's ids)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from analytics import details
from analytics.details import EventType
from analytics.timerange import RangeQuery

# Old players send no event id: one is derived from what identifies the event, so that a
# retried batch derives the same ids (and the processor stores it once).
ID_NAMESPACE = uuid.UUID("6f1c5a9e-2d4b-4c3e-9a51-3c7e0b8d2f10")
# Year 9999 in milliseconds: beyond it a timestamp cannot be stored.
_MAX_EPOCH_MS = 253_402_300_799_999


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlaybackEvent(_Body):
    """One event as the player sends it."""

    id: UUID | None = Field(None, description="Unique per event; old players omit it")
    type: EventType
    at: int = Field(description="Milliseconds since the epoch", ge=0, le=_MAX_EPOCH_MS)
    position_s: float | None = Field(None, ge=0, le=7 * 86400)
    detail: dict[str, Any] = Field(default_factory=dict)

    @field_validator("detail")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = details.unstorable(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _fits_type(self) -> PlaybackEvent:
        found = details.problem(self.type, self.detail)
        if found is not None:
            raise ValueError(f"detail of a {self.type} event: {found}")
        return self

    def event_id(self, session_id: str) -> UUID:
        """Its id, or one derived from the session, type, time and position (no batch index:
        the same event in a re-sent batch of other events derives the same id)."""
        if self.id is not None:
            return self.id
        return uuid.uuid5(ID_NAMESPACE, f"{session_id}|{self.type}|{self.at}|{self.position_s}")


class EventBatch(_Body):
    """POST /v1/events: one session's events, 1 to 100 of them."""

    viewer_id: UUID | None = Field(
        None, description="Anonymous viewers: the id from POST /v1/viewers (required without a "
        "token); ignored for a signed-in caller, whose events are its profile's",
    )  # fmt: skip
    session_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    asset_id: UUID
    events: list[PlaybackEvent] = Field(min_length=1, max_length=100)


class StreamEvent(BaseModel):
    """An accepted event as it waits in the Redis stream, with whose it is."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID
    at: int
    type: EventType
    session_id: str
    asset_id: UUID
    viewer_id: UUID | None = None
    profile_id: UUID | None = None
    account_id: UUID | None = None
    position_s: float | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    received_at: int

    @property
    def at_time(self) -> datetime:
        return datetime.fromtimestamp(self.at / 1000, UTC)


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Events queued for processing")


class Dimension(enum.StrEnum):
    ALL = "all"
    TITLE = "title"
    RENDITION = "rendition"


class QoeQuery(RangeQuery):
    """GET /v1/analytics/qoe's query string."""

    dimension: Dimension = Dimension.ALL
    key: str | None = Field(None, max_length=200, description="Title (or asset) id, rendition")


class TopQuery(RangeQuery):
    limit: int = Field(10, ge=1, le=100)


class PopularityQuery(RangeQuery):
    limit: int = Field(5, ge=1, le=20)


class RollupBody(_Body):
    """POST /v1/analytics/rollups: the range to recompute (ISO instants or ages)."""

    since: str = Field(description="An ISO 8601 instant or an age: 90s, 15m, 6h, 7d")
    until: str | None = Field(None, description="Same forms; unset: now")


class RollupOut(BaseModel):
    minutes: int = Field(description="Minutes recomputed")
    rows: int = Field(description="qoe_minutes rows written")
    since: datetime
    until: datetime


class ConcurrentOut(BaseModel):
    now: int
    at: datetime
