"""Watch history's request and response bodies (pydantic; they also make its OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from streaming.recommendations.rows import Row

_MAX_POSITION_S = 7 * 86400


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(50, ge=1, le=500, description="At most this many, latest first")
    cursor: str | None = Field(None, max_length=512, description="next_cursor of the last page")


class ContinueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(20, ge=1, le=100)


class RecommendationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    row: Row = Row.TOP_PICKS
    limit: int | None = Field(None, ge=1, le=100, description="Default recommendations.row_size")


class ImportedViewing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    profile_id: UUID
    title_id: UUID
    watched_at: AwareDatetime = Field(description="ISO 8601, with its time zone")
    position_s: float | None = Field(None, ge=0, le=_MAX_POSITION_S)
    completion: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_measure(self) -> ImportedViewing:
        if (self.position_s is None) == (self.completion is None):
            raise ValueError("give exactly one of position_s and completion")
        return self


class HistoryImport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    items: list[ImportedViewing] = Field(min_length=1, max_length=1000)


# -- responses ---------------------------------------------------------------------------------


class TitleShown(BaseModel):
    id: UUID
    kind: str
    title: str
    year: int | None
    genres: list[str]
    runtime_min: int | None
    rating: float | None
    certification: str | None
    access: str | None
    tmdb_id: int | None
    series_id: UUID | None
    season_number: int | None
    episode_number: int | None
    images: dict[str, str | None] | None
    locked: bool = Field(description="Premium, and the account's plan does not include it")


class HistoryItem(BaseModel):
    title_id: UUID
    title: TitleShown | None = Field(description="Null: no longer in the catalog")
    series_id: UUID | None
    asset_id: UUID | None
    position_s: float
    duration_s: float | None
    completion: float = Field(ge=0, le=1)
    times_completed: int
    first_watched_at: datetime
    last_watched_at: datetime


class HistoryPage(BaseModel):
    profile_id: UUID
    items: list[HistoryItem] = Field(description="Latest first")
    next_cursor: str | None


class ContinueItem(BaseModel):
    title: TitleShown
    asset_id: UUID | None = Field(description="What to play (its main asset)")
    position_s: float = Field(description="Where to resume")
    duration_s: float | None
    completion: float
    next_episode: bool = Field(description="The series' next episode, the last one finished")
    last_watched_at: datetime
    remove: str = Field(description="DELETE it to remove the item from the row")


class ContinueRow(BaseModel):
    profile_id: UUID
    items: list[ContinueItem] = Field(description="Most recently watched first")


class ImportRejection(BaseModel):
    index: int
    code: str
    message: str


class ImportResult(BaseModel):
    written: int
    unchanged: int = Field(description="Not newer than what the history holds")
    rejected: list[ImportRejection]


class RecommendedBecause(BaseModel):
    id: UUID
    title: str


class RecommendationItem(BaseModel):
    title: TitleShown
    score: float
    components: dict[str, float] = Field(
        description="content, collaborative, trending: each in [0, 1], before weighting"
    )
    explanation: str = Field(description='Why: "because you watched …", "popular in … this week"')
    because: RecommendedBecause | None = Field(description="The watched title it follows from")


class RecommendationRow(BaseModel):
    profile_id: UUID
    row: Row
    items: list[RecommendationItem]
