"""Query strings of the asset endpoints (pydantic; they also generate the OpenAPI)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from streamcore.assets.states import AssetStatus

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class AssetListParams(BaseModel):
    """GET /v1/assets's query string."""

    model_config = _CONFIG

    limit: int = Field(50, ge=1, le=200)
    status: AssetStatus | None = Field(None, description="Only assets in this state")
    cursor: str | None = Field(
        None, max_length=512, description="next_cursor of the previous page, as returned"
    )


class ReprocessParams(BaseModel):
    """POST /v1/assets/{asset_id}/reprocess's query string."""

    model_config = _CONFIG

    force: bool = Field(
        False,
        description="Also while it is processing (say, its worker died): queue it again under "
        "a new job id; the old job's writes, if it still runs, are ignored",
    )
