"""Response shapes of the asset endpoints, which build plain dicts (catalog_api/assets/views.py).

The schemathesis run (tests/integration/test_openapi.py) checks real responses against them.
The error body and the health answers are every service's: streamcore/web/openapi.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from streamcore.assets.states import AssetStatus


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
