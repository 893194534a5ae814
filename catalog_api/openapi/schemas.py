"""Response shapes of the endpoints that build plain dicts (assets, playback, viewing, health).

They document catalog_api/assets/views.py, cdn_adapters/playback.py and the viewing handlers;
the schemathesis run (tests/integration/test_openapi.py) checks real responses against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from streamcore.assets.states import AssetStatus


class FieldProblem(BaseModel):
    field: str = Field(
        description="The parameter, header or body field at fault; nested fields dotted "
        "(`titles.3.year`); `body` or `query` for the whole of it"
    )
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, for programs: invalid_request, not_found, ...")
    message: str = Field(description="For people; names the field or parameter at fault")
    details: list[FieldProblem] | None = Field(
        None,
        description="With `invalid_request` (and `invalid_cursor`): every field at fault "
        "(at most 50)",
    )


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer of the API."""

    error: ErrorDetail


class Status(BaseModel):
    status: str


class AssetSource(BaseModel):
    filename: str
    size: int | None
    content_type: str | None
    probe: dict[str, Any] | None


class AssetOut(BaseModel):
    id: UUID
    title: str
    status: AssetStatus
    progress: int = Field(ge=0, le=100)
    error: str | None
    version: int
    attempts: int
    source: AssetSource
    renditions: list[dict[str, Any]]
    images: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    processing_started_at: datetime | None
    ready_at: datetime | None
    failed_at: datetime | None
    links: dict[str, str]


class AssetPage(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None


class DeletedAsset(BaseModel):
    id: UUID
    deleted: bool


class PlaybackSource(BaseModel):
    name: str
    kind: Literal["cdn", "origin"]
    hls: str
    dash: str
    poster: str | None = None
    storyboard: str | None = None


class Playback(BaseModel):
    asset_id: UUID
    version: int
    expires_at: int = Field(description="Unix seconds")
    sources: list[PlaybackSource] = Field(description="Every CDN, primary first, then the origin")


class Viewer(BaseModel):
    viewer_id: UUID


class ProgressOut(BaseModel):
    position_s: float
    duration_s: float | None
    updated_at: datetime


class EventsAccepted(BaseModel):
    accepted: int
