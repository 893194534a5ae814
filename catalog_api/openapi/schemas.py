"""Response shapes of the asset endpoints, which build plain dicts (catalog_api/assets/views.py).

The schemathesis run (tests/integration/test_openapi.py) checks real responses against them.
The error body and the health answers are every service's: streamcore/web/openapi.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from streamcore.assets.captions import CaptionFormat, CaptionKind, CaptionOrigin
from streamcore.assets.states import AssetStatus
from streamcore.entitlements import Access


class AssetSource(BaseModel):
    filename: str
    size: int | None
    content_type: str | None
    probe: dict[str, Any] | None
    audio_languages: list[str] = Field(
        description="The languages given at upload, one per source audio track in its order "
        "('' keeps the track's own tag)"
    )


class AudioRenditionOut(BaseModel):
    name: str = Field(description="Its id in the manifests and its folder: en-2ch, fr-6ch")
    language: str = Field(description="BCP 47; und when the source did not say")
    label: str = Field(description="What players' menus show (HLS NAME, DASH Label)")
    channels: int = Field(description="2 (stereo) or 6 (5.1)")
    default: bool = Field(description="The rendition players start with")


_MANAGED = "Only for who may manage the asset: its owner and admins"


class MainTitleOut(BaseModel):
    """The title an asset is the main video of: what watch history counts a viewing of."""

    id: UUID
    kind: str = Field(description="movie or episode (a series has no main asset of its own)")
    series_id: UUID | None = Field(description="An episode's series")
    runtime_min: int | None


class AssetOut(BaseModel):
    id: UUID
    title: str
    status: AssetStatus
    progress: int = Field(ge=0, le=100)
    version: int
    certification: str | None = Field(
        description="The strictest content certification among the titles the asset belongs "
        "to (the one that takes the most permissive maturity level to watch); null when it "
        "belongs to none, or to one without any: that counts as the strictest of all"
    )
    access: Access = Field(
        description="Who may play it: premium when any title it belongs to is premium "
        "(plans that include premium titles only), else free"
    )
    locked: bool = Field(
        description="True when the asset is premium and the caller's plan does not include "
        "premium titles (anonymous callers: the free plan's); never for admins and service "
        "accounts. Also true while the subscriptions service cannot say what the plan is"
    )
    main_title: MainTitleOut | None = Field(
        None, description="The title whose main asset this is; null for trailers and extras, "
        "and for an asset no title links",
    )  # fmt: skip
    renditions: list[dict[str, Any]] = Field(
        description="Its ladder: name, width, height, bandwidth, ... of each rendition"
    )
    audio: list[AudioRenditionOut] = Field(
        description="Every audio rendition: each source language in stereo, and in 5.1 too "
        "where the source has it; the default first"
    )
    images: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None
    links: dict[str, str]
    owner_account_id: UUID | None = Field(
        None, description=f"The account that uploaded it (null: a service account, or before "
        f"accounts). {_MANAGED}",
    )  # fmt: skip
    error: str | None = Field(None, description=_MANAGED)
    warnings: list[str] | None = Field(
        None, description=f"What was published without, and why (an audio track that does "
        f"not decode). {_MANAGED}",
    )  # fmt: skip
    attempts: int | None = Field(None, description=_MANAGED)
    source: AssetSource | None = Field(None, description=_MANAGED)
    processing_started_at: datetime | None = Field(None, description=_MANAGED)
    failed_at: datetime | None = Field(None, description=_MANAGED)


class AssetPage(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None


class DeletedAsset(BaseModel):
    id: UUID
    deleted: bool


class CaptionOut(BaseModel):
    """One caption or subtitle track of an asset (catalog_api/assets/captions.py)."""

    asset_id: UUID
    language: str = Field(description="BCP 47, canonical: fr, pt-BR, zh-Hant")
    kind: CaptionKind = Field(
        description="subtitles (dialogue) or captions (for viewers who cannot hear: sound "
        "effects too; HLS CHARACTERISTICS and DASH Role say so)"
    )
    label: str = Field(description="What players' menus show (HLS NAME, DASH Label)")
    origin: CaptionOrigin = Field(
        description="sidecar (a file uploaded here) or embedded (a text track of the source)"
    )
    format: CaptionFormat = Field(description="Of the file as sent, kept in the uploads bucket")
    cue_count: int = Field(ge=1)
    revision: int = Field(ge=1, description="1, then one more each time it is replaced")
    published: bool = Field(
        description="This revision is in the published manifests; false until the worker "
        "has put it there (an asset still processing gets it once processing ends)"
    )
    published_version: int | None = Field(
        description="The asset version it was last published into; null before its first"
    )
    links: dict[str, str]


class CaptionPage(BaseModel):
    items: list[CaptionOut] = Field(description="By language, then kind")


class DeletedCaption(BaseModel):
    deleted: Literal[True]
    asset_id: UUID
    language: str
    kind: CaptionKind
