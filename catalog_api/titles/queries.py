"""The catalog's reads, as plain JSON-able documents: no signed URL, no cursor token inside.

Documents carry image *paths* (`image_paths`); the handler signs them per response. That keeps
`title_document` and `title_page` cacheable as they are: a cache in front of them takes the
pool and the parameters, and `TitleQuery.cache_key()` names a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from catalog_api.titles.models import Sort, TitleKind, TitleQuery
from streamcore.assets.keys import asset_image_paths

Conn: TypeAlias = asyncpg.Pool | asyncpg.Connection

# Who may play a title: premium when it is, or (an episode) when its series is. The
# subquery runs only for a free episode. A scalar subquery by the primary key, not EXISTS:
# the planner would add a hashed alternative of EXISTS that scans the whole table.
EFFECTIVE_ACCESS = """
    CASE WHEN t.access = 'premium' OR (t.series_id IS NOT NULL AND
        (SELECT s.access FROM titles s WHERE s.id = t.series_id) = 'premium')
    THEN 'premium' ELSE 'free' END
"""
SUMMARY_COLUMNS = f"""
    t.id, t.kind, t.title, t.year, t.genres, t.runtime_min, t.rating, t.certification,
    t.tmdb_id, t.series_id, t.season_number, t.episode_number, t.poster_path, t.thumbnail_path,
    t.created_at, t.updated_at, {EFFECTIVE_ACCESS} AS access
"""
# A title's certification as maturity filtering judges it: its own, else (an episode) its
# series'. COALESCE evaluates the subquery only for a title without one.
EFFECTIVE_CERTIFICATION = (
    "coalesce(t.certification, (SELECT s.certification FROM titles s WHERE s.id = t.series_id))"
)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a text")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(_text(value))
    except InvalidOperation:
        raise ValueError("not a number") from None


def _timestamp(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


@dataclass(frozen=True)
class SortSpec:
    """One list order: the SQL key (the expression its index is built on), and its cursor value."""

    key: str
    sql_type: str
    descending: bool
    # The key's value as a cursor holds it (JSON), and back to what asyncpg sends.
    to_json: Callable[[Any], str | int]
    parse: Callable[[Any], Any]


def _sorts() -> dict[Sort, SortSpec]:
    keys: dict[str, tuple[str, str, Callable[[Any], str | int], Callable[[Any], Any]]] = {
        "title": ("lower(t.title)", "text", str, _text),
        "year": ("coalesce(t.year, 0)", "integer", int, _int),
        "rating": ("coalesce(t.rating, -1)", "numeric", str, _decimal),
        "created": ("t.created_at", "timestamptz", lambda v: v.isoformat(), _timestamp),
    }
    specs = {}
    for sort in Sort:
        key, sql_type, to_json, parse = keys[sort.value.removeprefix("-")]
        specs[sort] = SortSpec(key, sql_type, sort.value.startswith("-"), to_json, parse)
    return specs


SORTS = _sorts()


def like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_sql(query: TitleQuery) -> tuple[str, list[Any]]:
    """The list query: filters, then keyset pagination on the sort's index; one row extra."""
    spec = SORTS[query.sort]
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = ["t.kind <> 'episode'"] if query.kind is None else [f"t.kind = {arg(query.kind.value)}"]
    if query.genres:
        where.append(f"t.genres @> {arg(list(query.genres))}::text[]")
    if query.year is not None:
        where.append(f"t.year = {arg(query.year)}")
    if query.q:
        where.append(f"t.title ILIKE {arg(like_pattern(query.q))}")
    if query.tmdb_id is not None:
        where.append(f"t.tmdb_id = {arg(query.tmdb_id)}")
    if query.certifications is not None:
        # NULL (none, none inherited) is in no list: such titles only unfiltered callers see.
        where.append(f"{EFFECTIVE_CERTIFICATION} = ANY({arg(list(query.certifications))}::text[])")
    if query.after is not None:
        value, after_id = query.after
        compare = "<" if spec.descending else ">"
        where.append(
            f"({spec.key}, t.id) {compare} "
            f"({arg(spec.parse(value))}::{spec.sql_type}, {arg(UUID(after_id))}::uuid)"
        )
    direction = "DESC" if spec.descending else "ASC"
    sql = (
        f"SELECT {SUMMARY_COLUMNS}, {spec.key} AS sort_key FROM titles t "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY {spec.key} {direction}, t.id {direction} LIMIT {arg(query.limit + 1)}"
    )
    return sql, args


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def summary(row: asyncpg.Record) -> dict[str, Any]:
    image_paths = {"poster": row["poster_path"], "thumbnail": row["thumbnail_path"]}
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "title": row["title"],
        "year": row["year"],
        "genres": list(row["genres"]),
        "runtime_min": row["runtime_min"],
        "rating": float(row["rating"]) if row["rating"] is not None else None,
        "certification": row["certification"],
        "access": row["access"],
        "tmdb_id": row["tmdb_id"],
        "series_id": str(row["series_id"]) if row["series_id"] else None,
        "season_number": row["season_number"],
        "episode_number": row["episode_number"],
        "image_paths": {k: v for k, v in image_paths.items() if v},
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


MAIN_ASSETS_SQL = """
    SELECT ta.title_id, a.id, a.version, a.images
    FROM title_assets ta JOIN assets a ON a.id = ta.asset_id
    WHERE ta.title_id = ANY($1::uuid[]) AND ta.role = 'main' AND a.version >= 1
"""


async def _use_asset_images(conn: Conn, documents: Iterable[dict[str, Any]]) -> None:
    """A title without its own poster shows its main asset's, when that has one."""
    bare = {doc["id"]: doc for doc in documents if "poster" not in doc["image_paths"]}
    if not bare:
        return
    rows = await conn.fetch(MAIN_ASSETS_SQL, [UUID(title_id) for title_id in bare])
    for row in rows:
        paths = asset_image_paths(row["id"], row["version"], row["images"])
        if paths:
            bare[str(row["title_id"])]["image_paths"] = paths


async def title_page(pool: Conn, query: TitleQuery) -> dict[str, Any]:
    """One page of titles; `next_after` is the position the next page starts after, or None."""
    sql, args = page_sql(query)
    # No transaction (two round trips fewer): at worst, a poster borrowed from a main asset is
    # a moment newer than the page.
    async with _snapshot(pool, consistent=False) as conn:
        rows = await conn.fetch(sql, *args)
        items = [summary(row) for row in rows[: query.limit]]
        await _use_asset_images(conn, items)
    next_after = None
    if len(rows) > query.limit:
        last = rows[query.limit - 1]
        next_after = [SORTS[query.sort].to_json(last["sort_key"]), str(last["id"])]
    return {"items": items, "next_after": next_after}


ASSETS_SQL = """
    SELECT ta.role, ta.position, a.id, a.title, a.status, a.version, a.images, a.source_probe
    FROM title_assets ta JOIN assets a ON a.id = ta.asset_id
    WHERE ta.title_id = $1
    ORDER BY array_position(ARRAY['main', 'trailer', 'extra'], ta.role), ta.position,
             a.created_at, a.id
"""


DOCUMENT_SQL = f"""
    SELECT {SUMMARY_COLUMNS}, t.description, s.title AS series_title,
           s.certification AS series_certification
    FROM titles t LEFT JOIN titles s ON s.id = t.series_id
    WHERE t.id = $1
"""
EPISODES_SQL = f"""
    SELECT {SUMMARY_COLUMNS} FROM titles t WHERE t.series_id = $1
    ORDER BY t.season_number, t.episode_number, t.id
"""


def _asset(row: asyncpg.Record) -> dict[str, Any]:
    probe = row["source_probe"] or {}
    duration = probe.get("duration_s") if isinstance(probe, dict) else None
    links = {"self": f"/v1/assets/{row['id']}"}
    if row["version"] >= 1:
        links["playback"] = f"/v1/playback/{row['id']}"
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "role": row["role"],
        "position": row["position"],
        "status": row["status"],
        "version": row["version"],
        "duration_s": float(duration) if isinstance(duration, int | float) else None,
        "image_paths": asset_image_paths(row["id"], row["version"], row["images"]),
        "links": links,
    }


async def title_document(pool: Conn, title_id: UUID) -> dict[str, Any] | None:
    """A title with its assets; a series with its episodes; an episode with its series."""
    async with _snapshot(pool) as conn:
        row = await conn.fetchrow(DOCUMENT_SQL, title_id)
        if row is None:
            return None
        document = summary(row)
        document["description"] = row["description"]
        document["series"] = (
            {"id": str(row["series_id"]), "title": row["series_title"],
             "certification": row["series_certification"]}
            if row["series_id"]
            else None
        )  # fmt: skip
        document["assets"] = [_asset(a) for a in await conn.fetch(ASSETS_SQL, title_id)]
        episodes: list[dict[str, Any]] = []
        if row["kind"] == TitleKind.SERIES:
            episodes = [summary(e) for e in await conn.fetch(EPISODES_SQL, title_id)]
            document["episodes"] = episodes
        await _use_asset_images(conn, [document, *episodes])
    return document


async def poster_path(conn: Conn, title_id: UUID) -> tuple[bool, str | None]:
    """(whether the title exists, the URL path of its poster if it has one), from `conn`."""
    row = await conn.fetchrow("SELECT poster_path FROM titles WHERE id = $1", title_id)
    return (row is not None, row["poster_path"] if row is not None else None)


@asynccontextmanager
async def _snapshot(pool: Conn, *, consistent: bool = True) -> AsyncIterator[asyncpg.Connection]:
    """One connection; `consistent`: in a read-only, repeatable-read transaction, so that the
    queries of one document see one state of the database. A connection is used as it is."""
    if isinstance(pool, asyncpg.Connection):
        yield pool
    elif not consistent:
        async with pool.acquire() as conn:
            yield conn
    else:
        async with (
            pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn
