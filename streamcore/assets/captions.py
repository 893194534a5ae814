"""Caption queries: the rows of catalog.asset_captions (migration 0019), one per language and
kind of an asset.

The catalog API writes a row when a caption file is added or replaced (bumping `revision`) and
deletes it on removal; the worker writes rows for the text tracks it extracts from a source,
and stamps `published_revision` and `published_version` once a revision is in the published
manifests. Shared by both through the kernel, like the assets' own repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

CaptionKind = Literal["subtitles", "captions"]
CaptionOrigin = Literal["sidecar", "embedded"]
CaptionFormat = Literal["webvtt", "srt"]
_COLUMNS = """
    asset_id, language, kind, label, origin, format, source_key, cue_count, revision,
    published_revision, published_version, created_at, updated_at
"""


@dataclass(frozen=True)
class Caption:
    asset_id: UUID
    language: str  # BCP 47
    kind: CaptionKind
    label: str  # what players' menus show
    origin: CaptionOrigin
    format: CaptionFormat  # of the file kept at source_key
    source_key: str  # in the uploads bucket
    cue_count: int
    revision: int
    published_revision: int | None
    published_version: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def published(self) -> bool:
        return self.published_revision == self.revision

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Caption:
        return cls(**dict(row))


async def list_for(conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID) -> list[Caption]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM asset_captions WHERE asset_id = $1 ORDER BY language, kind",
        asset_id,
    )
    return [Caption.from_row(row) for row in rows]


async def upsert(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    asset_id: UUID,
    language: str,
    kind: CaptionKind,
    label: str,
    origin: CaptionOrigin,
    file_format: CaptionFormat,
    source_key: str,
    cue_count: int,
) -> Caption:
    """Add the caption, or replace the one of the same language and kind (a new revision)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO asset_captions (asset_id, language, kind, label, origin, format,
                                    source_key, cue_count)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (asset_id, language, kind) DO UPDATE
        SET label = EXCLUDED.label, origin = EXCLUDED.origin, format = EXCLUDED.format,
            source_key = EXCLUDED.source_key, cue_count = EXCLUDED.cue_count,
            revision = asset_captions.revision + 1, updated_at = now()
        RETURNING {_COLUMNS}
        """,
        asset_id, language, kind, label, origin, file_format, source_key, cue_count,
    )  # fmt: skip
    return Caption.from_row(row)


async def delete(
    conn: asyncpg.Connection | asyncpg.Pool, asset_id: UUID, language: str, kind: CaptionKind
) -> Caption | None:
    row = await conn.fetchrow(
        f"""
        DELETE FROM asset_captions WHERE asset_id = $1 AND language = $2 AND kind = $3
        RETURNING {_COLUMNS}
        """,
        asset_id, language, kind,
    )  # fmt: skip
    return Caption.from_row(row) if row else None


async def mark_published(
    conn: asyncpg.Connection | asyncpg.Pool,
    asset_id: UUID,
    revisions: dict[tuple[str, str], int],
    version: int,
) -> None:
    """Stamp each (language, kind) as published at `revision` in `version`; a row replaced
    meanwhile (a newer revision) keeps waiting for its own publication."""
    await conn.executemany(
        """
        UPDATE asset_captions SET published_revision = $4, published_version = $5
        WHERE asset_id = $1 AND language = $2 AND kind = $3 AND revision = $4
        """,
        [(asset_id, lang, kind, rev, version) for (lang, kind), rev in revisions.items()],
    )
