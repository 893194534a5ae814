"""The catalog's writes, each one transaction on the primary; constraint errors become 4xx."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from catalog_api.titles.models import AttachAsset, TitleCreate, TitleImport, TitleKind
from streamcore.web.service import ApiError, Conflict, NotFound
from streamcore.web.validation import invalid


class DuplicateTmdbId(Conflict):
    code = "duplicate_tmdb_id"


class DuplicateEpisode(Conflict):
    code = "duplicate_episode"


class MainAssetExists(Conflict):
    code = "main_asset_exists"


_UNIQUE: dict[str, ApiError] = {
    "titles_tmdb_id_key": DuplicateTmdbId("tmdb_id: another title of this kind has it"),
    "titles_episode_number_key": DuplicateEpisode(
        "episode_number: the series has an episode with this season and number"
    ),
    "title_assets_one_main_idx": MainAssetExists(
        "role: the title has a main asset already; detach it first"
    ),
}


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction whose unique violations come out as the matching 409."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            yield conn
    except asyncpg.UniqueViolationError as exc:
        error = _UNIQUE.get(exc.constraint_name or "")
        if error is None:
            raise
        raise type(error)(error.message) from None


@dataclass(frozen=True)
class Written:
    id: UUID
    series_id: UUID | None = None

    @property
    def documents(self) -> frozenset[UUID]:
        """The documents this row appears in: its own, and its series'."""
        return frozenset(i for i in (self.id, self.series_id) if i is not None)


def _rating(value: float | None) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


async def _check_series(conn: asyncpg.Connection, series_id: UUID | None) -> None:
    if series_id is None:
        return
    kind = await conn.fetchval("SELECT kind FROM titles WHERE id = $1", series_id)
    if kind != TitleKind.SERIES:
        raise invalid("series_id", "no series has this id")


async def create_title(pool: asyncpg.Pool, body: TitleCreate) -> Written:
    async with transaction(pool) as conn:
        await _check_series(conn, body.series_id)
        title_id = uuid.uuid4()
        await conn.execute(
            """
            INSERT INTO titles (id, kind, series_id, season_number, episode_number, title,
                                description, genres, year, runtime_min, rating, tmdb_id,
                                certification, access)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            """,
            title_id, body.kind.value, body.series_id, body.season_number, body.episode_number,
            body.title, body.description, body.genres, body.year, body.runtime_min,
            _rating(body.rating), body.tmdb_id, body.certification, body.access.value,
        )  # fmt: skip
    return Written(title_id, body.series_id)


_EPISODE_FIELDS = ("season_number", "episode_number")


async def update_title(pool: asyncpg.Pool, title_id: UUID, changes: dict[str, Any]) -> Written:
    """Apply a partial update (field name -> new value); NotFound if there is no such title."""
    async with transaction(pool) as conn:
        row = await conn.fetchrow(
            "SELECT kind, series_id FROM titles WHERE id = $1 FOR UPDATE", title_id
        )
        if row is None:
            raise NotFound(f"no title with id {title_id}")
        for name in _EPISODE_FIELDS:
            if name not in changes:
                continue
            if row["kind"] != TitleKind.EPISODE and changes[name] is not None:
                raise invalid(name, "only episodes have this field")
            if row["kind"] == TitleKind.EPISODE and changes[name] is None:
                raise invalid(name, "an episode needs one")
        if changes:
            values = {k: _rating(v) if k == "rating" else v for k, v in changes.items()}
            # Column names come from the model's fields, never from the request.
            assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
            await conn.execute(
                f"UPDATE titles SET {assignments}, updated_at = now() WHERE id = $1",
                title_id,
                *values.values(),
            )
    return Written(title_id, row["series_id"])


async def delete_title(pool: asyncpg.Pool, title_id: UUID) -> list[tuple[Written, bool]]:
    """Delete a title (a series with its episodes): each row deleted, and whether it had
    images of its own; empty if there was no such title."""
    async with transaction(pool) as conn:
        rows = await conn.fetch(
            "DELETE FROM titles WHERE id = $1 OR series_id = $1 "
            "RETURNING id, series_id, poster_path IS NOT NULL AS had_images",
            title_id,
        )
    return [(Written(row["id"], row["series_id"]), row["had_images"]) for row in rows]


async def set_poster(
    pool: asyncpg.Pool, title_id: UUID, poster_path: str, thumbnail_path: str
) -> tuple[Written, list[str]] | None:
    """Point the title at new images; the row and the image paths it had, None if no title."""
    async with transaction(pool) as conn:
        old = await conn.fetchrow(
            "SELECT poster_path, thumbnail_path, series_id FROM titles WHERE id = $1 FOR UPDATE",
            title_id,
        )
        if old is None:
            return None
        await conn.execute(
            "UPDATE titles SET poster_path = $2, thumbnail_path = $3, updated_at = now() "
            "WHERE id = $1",
            title_id, poster_path, thumbnail_path,
        )  # fmt: skip
    previous = [p for p in (old["poster_path"], old["thumbnail_path"]) if p]
    return Written(title_id, old["series_id"]), previous


async def attach_asset(
    pool: asyncpg.Pool, title_id: UUID, asset_id: UUID, body: AttachAsset
) -> Written:
    async with transaction(pool) as conn:
        series_id = await conn.fetchrow("SELECT series_id FROM titles WHERE id = $1", title_id)
        if series_id is None:
            raise NotFound(f"no title with id {title_id}")
        if not await conn.fetchval("SELECT 1 FROM assets WHERE id = $1 FOR SHARE", asset_id):
            raise NotFound(f"no asset with id {asset_id}")
        await conn.execute(
            """
            INSERT INTO title_assets (title_id, asset_id, role, position) VALUES ($1, $2, $3, $4)
            ON CONFLICT (title_id, asset_id)
            DO UPDATE SET role = EXCLUDED.role, position = EXCLUDED.position
            """,
            title_id, asset_id, body.role.value, body.position,
        )  # fmt: skip
    return Written(title_id, series_id["series_id"])


async def detach_asset(pool: asyncpg.Pool, title_id: UUID, asset_id: UUID) -> Written:
    async with transaction(pool) as conn:
        series_id = await conn.fetchrow(
            """
            DELETE FROM title_assets ta USING titles t
            WHERE ta.title_id = $1 AND ta.asset_id = $2 AND t.id = ta.title_id
            RETURNING t.series_id
            """,
            title_id,
            asset_id,
        )
    if series_id is None:
        raise NotFound(f"asset {asset_id} is not attached to title {title_id}")
    return Written(title_id, series_id["series_id"])


# One statement per batch and kind of row: the rows travel as one jsonb array. A row whose
# values are all unchanged is not written (no new updated_at, no dead tuple) and not returned.
# A row without a certification keeps the title's, and one without an access level too (a new
# title: free) (models.TitleImport).
_UPSERT = """
    INSERT INTO titles AS t (id, kind, series_id, season_number, episode_number, title,
                             description, genres, year, runtime_min, rating, tmdb_id,
                             certification, access)
    SELECT r.id, r.kind, r.series_id, r.season_number, r.episode_number, r.title,
           r.description, r.genres, r.year, r.runtime_min, r.rating, r.tmdb_id, r.certification,
           coalesce(r.access, (SELECT o.access FROM titles o
                               WHERE o.tmdb_id = r.tmdb_id AND o.kind = r.kind), 'free')
    FROM jsonb_to_recordset($1::jsonb) AS r(
        id uuid, kind text, series_id uuid, season_number integer, episode_number integer,
        title text, description text, genres text[], year integer, runtime_min integer,
        rating numeric, tmdb_id integer, certification text, access text)
    ON CONFLICT (tmdb_id, kind) DO UPDATE SET
        series_id = EXCLUDED.series_id, season_number = EXCLUDED.season_number,
        episode_number = EXCLUDED.episode_number, title = EXCLUDED.title,
        description = EXCLUDED.description, genres = EXCLUDED.genres, year = EXCLUDED.year,
        runtime_min = EXCLUDED.runtime_min, rating = EXCLUDED.rating,
        certification = coalesce(EXCLUDED.certification, t.certification),
        access = EXCLUDED.access, updated_at = now()
    WHERE (t.series_id, t.season_number, t.episode_number, t.title, t.description, t.genres,
           t.year, t.runtime_min, t.rating, t.certification, t.access)
          IS DISTINCT FROM
          (EXCLUDED.series_id, EXCLUDED.season_number, EXCLUDED.episode_number, EXCLUDED.title,
           EXCLUDED.description, EXCLUDED.genres, EXCLUDED.year, EXCLUDED.runtime_min,
           EXCLUDED.rating, coalesce(EXCLUDED.certification, t.certification), EXCLUDED.access)
    RETURNING t.id, t.kind, t.tmdb_id, t.series_id, (t.xmax = 0) AS inserted
"""


@dataclass
class BatchOutcome:
    """Per input row (by index): "created", "updated", "unchanged" or an error message."""

    results: dict[int, dict[str, Any]]
    changed: list[Written]


def _row(row: TitleImport, series_id: UUID | None) -> dict[str, Any]:
    values = row.model_dump(mode="json", exclude={"series_tmdb_id"})
    return {**values, "id": str(uuid.uuid4()), "series_id": str(series_id) if series_id else None}


async def _upsert(
    conn: asyncpg.Connection,
    rows: list[tuple[int, TitleImport, UUID | None]],
    outcome: BatchOutcome,
) -> None:
    if not rows:
        return
    # A list: the pool's jsonb codec encodes it.
    payload = [_row(row, series_id) for _, row, series_id in rows]
    written = {
        (r["kind"], r["tmdb_id"]): r for r in await conn.fetch(_UPSERT, payload)
    }  # fmt: skip
    kind = rows[0][1].kind.value
    ids = dict(
        await conn.fetch(
            "SELECT tmdb_id, id FROM titles WHERE kind = $1 AND tmdb_id = ANY($2::integer[])",
            kind,
            [row.tmdb_id for _, row, _ in rows],
        )
    )
    for index, row, _ in rows:
        result = written.get((row.kind.value, row.tmdb_id))
        status = "unchanged" if result is None else "created" if result["inserted"] else "updated"
        outcome.results[index] = {"index": index, "id": str(ids[row.tmdb_id]), "status": status}
        if result is not None:
            outcome.changed.append(Written(result["id"], result["series_id"]))


async def upsert_batch(
    pool: asyncpg.Pool, rows: list[TitleImport], refused: Mapping[int, str] | None = None
) -> BatchOutcome:
    """Create or update each row by (kind, tmdb_id), series before episodes, in one transaction.

    An episode whose series is neither in the batch nor in the catalog fails alone, and so do
    the rows `refused` names (index -> why), found invalid beforehand: they are not written.
    """
    refused = refused or {}
    outcome = BatchOutcome(
        results={i: {"index": i, "error": why} for i, why in refused.items()}, changed=[]
    )
    accepted = [(i, r) for i, r in enumerate(rows) if i not in refused]
    async with transaction(pool) as conn:
        for kind in (TitleKind.MOVIE, TitleKind.SERIES):
            await _upsert(conn, [(i, r, None) for i, r in accepted if r.kind == kind], outcome)
        episodes = [(i, r) for i, r in accepted if r.kind == TitleKind.EPISODE]
        wanted = sorted({r.series_tmdb_id for _, r in episodes if r.series_tmdb_id is not None})
        series = dict(
            await conn.fetch(
                "SELECT tmdb_id, id FROM titles "
                "WHERE kind = 'series' AND tmdb_id = ANY($1::integer[])",
                wanted,
            )
        )
        ready = []
        for index, row in episodes:
            if row.series_tmdb_id in series:
                ready.append((index, row, series[row.series_tmdb_id]))
            else:
                outcome.results[index] = {
                    "index": index,
                    "error": f"series_tmdb_id: no series has tmdb_id {row.series_tmdb_id}",
                }
        await _upsert(conn, ready, outcome)
    return outcome
