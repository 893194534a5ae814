"""What the title endpoints answer, as pydantic models: the OpenAPI document's response schemas.

Handlers build plain dicts (queries.py, views.py); tests validate those against these models,
so that the document describes what is really sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from catalog_api.titles.models import AssetRole, TitleKind
from streamcore.assets.states import AssetStatus
from streamcore.entitlements import Access


class Images(BaseModel):
    """Signed CDN URLs, stable for the hour: the title's own images, else its main asset's."""

    poster: str | None
    thumbnail: str | None


class TitleLinks(BaseModel):
    self: str


class TitleSummary(BaseModel):
    id: UUID
    kind: TitleKind
    title: str
    year: int | None
    genres: list[str]
    runtime_min: int | None
    rating: float | None = Field(description="The review score, 0 to 10")
    certification: str | None = Field(
        description="The content certification (G, PG-13, TV-MA, ...); null: none, which "
        "counts as the strictest (an episode without one has its series')"
    )
    access: Access = Field(
        description="Who may play it: free (every plan) or premium (plans that include "
        "premium titles); an episode of a premium series is premium"
    )
    locked: bool = Field(
        description="True when the title is premium and the caller's plan does not include "
        "premium titles (anonymous callers: the free plan's): it is listed, but playing it is "
        "refused (403 not_entitled) until the caller subscribes to such a plan. Also true "
        "while the subscriptions service cannot say what the caller's plan is"
    )
    tmdb_id: int | None
    series_id: UUID | None = Field(description="An episode's series")
    season_number: int | None
    episode_number: int | None
    images: Images
    created_at: datetime
    updated_at: datetime
    links: TitleLinks


class AssetLinks(BaseModel):
    self: str
    playback: str | None = Field(
        None, description="Present once the asset has been published: the streaming service's"
    )


class TitleAsset(BaseModel):
    id: UUID
    title: str
    role: AssetRole
    position: int
    status: AssetStatus
    version: int = Field(description="The published version; 0 until the first")
    duration_s: float | None
    images: Images
    links: AssetLinks


class SeriesRef(BaseModel):
    id: UUID
    title: str
    certification: str | None = Field(description="The series', which its episodes inherit")


class TitleDetail(TitleSummary):
    description: str
    series: SeriesRef | None
    assets: list[TitleAsset] = Field(description="Main first, then trailers, then extras")
    episodes: list[TitleSummary] | None = Field(
        None, description="A series' episodes, by season and episode number"
    )


class TitlePage(BaseModel):
    items: list[TitleSummary]
    limit: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")


class BatchRowResult(BaseModel):
    index: int = Field(description="The row's position in `titles`, from 0")
    id: UUID | None = None
    status: Literal["created", "updated", "unchanged"] | None = None
    error: str | None = None


class BatchResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[BatchRowResult]


class DeletedTitle(BaseModel):
    id: UUID
    deleted: list[UUID] = Field(description="The title and, for a series, its episodes")
