"""The read API's answers, documented (pydantic models for OpenAPI; the handlers build plain
dicts with these exact field names, which the admin dashboard reads)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


class QoeFigures(BaseModel):
    views: int = Field(description="Sessions whose first `start` is in the minute (range)")
    concurrent: int = Field(description="Sessions playing in the minute (a range: its highest)")
    video_startup_time_ms: float | None = Field(description="Mean first_frame - start")
    exits_before_video_start: int
    video_startup_failure_percentage: float | None
    rebuffer_percentage: float | None = Field(description="rebuffer / (played + rebuffer)")
    rebuffer_frequency_per_min: float | None = Field(description="Rebuffers per played minute")
    average_bitrate_kbps: float | None = Field(description="Time-weighted by played time")
    peak_bitrate_kbps: int | None
    bitrate_switches: int = Field(description="ABR rendition switches")
    playback_failure_percentage: float | None = Field(
        description="Fatal errors after the first frame per 100 views"
    )
    played_ms: int
    completions: int


class QoeMinute(QoeFigures):
    bucket: datetime


class QoeOut(BaseModel):
    dimension: str
    key: str | None
    since: datetime
    until: datetime
    minutes: list[QoeMinute]
    totals: QoeFigures


class TopItem(BaseModel):
    key: str = Field(description="A title id (an asset id while titles are not resolved)")
    views: int
    played_ms: int


class TopOut(BaseModel):
    since: datetime
    until: datetime
    items: list[TopItem]


class PopularityMinute(BaseModel):
    bucket: datetime
    items: list[TopItem]


class PopularityOut(BaseModel):
    since: datetime
    until: datetime
    keys: list[str] = Field(description="The range's top titles, most viewed first")
    minutes: list[PopularityMinute]


class SessionOut(BaseModel):
    session_id: str
    asset_id: UUID
    started_at: datetime | None
    first_frame_at: datetime | None
    startup_ms: int | None
    last_event_at: datetime
    ended_at: datetime | None
    played_ms: int
    rebuffer_ms: int
    rebuffer_count: int
    peak_bitrate_kbps: int
    switches: int
    failed_before_start: bool
    completed: bool
