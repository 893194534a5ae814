"""The catalog's main queries use indexes on a 10,000-title catalog (EXPLAIN, no Seq Scan).

The generated catalog (`streamcore titles generate --count 10000 --seed 1`) is loaded with
COPY into a database of its own on the stack's server, migrated like the real one: the
session's shared database stays small, and the other tests' titles do not skew the plans.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from catalog_api.titles import queries
from catalog_api.titles.models import Sort, TitleKind, TitleQuery
from cli.titles.catalog import generate
from streamcore.db.database import connect
from streamcore.db.migrate import migrate
from streamcore.db.schemas import Schema
from streamcore.settings import Settings

pytestmark = pytest.mark.stack

COLUMNS = ("id", "kind", "series_id", "season_number", "episode_number", "title", "description",
           "genres", "year", "runtime_min", "rating", "tmdb_id", "poster_path", "thumbnail_path",
           "created_at", "updated_at")  # fmt: skip


def records(rows: list[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    ids = {(row["kind"], row["tmdb_id"]): uuid.uuid4() for row in rows}
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i, row in enumerate(rows):
        title_id = ids[(row["kind"], row["tmdb_id"])]
        series = ids.get(("series", row.get("series_tmdb_id")))
        poster = f"/titles/{title_id}/abcdef012345/poster.jpg" if i % 3 == 0 else None
        created = start + dt.timedelta(seconds=i)
        rating = Decimal(str(row["rating"])) if row.get("rating") is not None else None
        yield (title_id, row["kind"], series, row.get("season_number"), row.get("episode_number"),
               row["title"], row["description"], row["genres"], row["year"], row.get("runtime_min"),
               rating, row["tmdb_id"], poster, poster and poster.replace("poster", "thumb"),
               created, created)  # fmt: skip


async def _load(stack: Settings, name: str) -> str:
    admin = await connect(stack, stack.postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = stack.postgres_dsn.rsplit("/", 1)[0] + f"/{name}"
    conn = await connect(stack, dsn)
    try:
        await migrate(conn)
        async with conn.transaction():
            await conn.copy_records_to_table(
                "titles",
                records=records(generate(10_000, seed=1)),
                columns=COLUMNS,
                schema_name=Schema.CATALOG.value,
            )
        await conn.execute("VACUUM ANALYZE catalog.titles")
    finally:
        await conn.close()
    return dsn


async def _drop(stack: Settings, name: str) -> None:
    admin = await connect(stack, stack.postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def catalog_db(stack: Settings) -> Iterator[str]:
    name = f"{stack.postgres.database}_titles_explain"
    yield asyncio.run(_load(stack, name))
    asyncio.run(_drop(stack, name))


@pytest.fixture
async def conn(stack: Settings, catalog_db: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(stack, catalog_db, schema=Schema.CATALOG)
    yield connection
    await connection.close()


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def explain(conn: asyncpg.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    document = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args))
    return list(plan_nodes(document[0]["Plan"]))


def title_indexes(nodes: list[dict[str, Any]]) -> set[str]:
    """The indexes of titles the main plan reads. Nothing scans a whole table, subplans
    included; a subplan's own index (an episode's series, looked up by its primary key for
    its access level: queries.EFFECTIVE_ACCESS) is not the main plan's choice."""
    scans = [n for n in nodes if n.get("Relation Name") == "titles" or "Index Name" in n]
    assert not [n for n in scans if n["Node Type"] == "Seq Scan"], nodes
    subplans = [n for n in nodes if n.get("Parent Relationship") == "SubPlan"]
    assert all(n.get("Index Name") == "titles_pkey" for n in subplans), subplans
    return {
        n["Index Name"] for n in nodes
        if n.get("Index Name", "").startswith("titles") and n not in subplans
    }  # fmt: skip


async def page_indexes(conn: asyncpg.Connection, query: TitleQuery) -> set[str]:
    sql, args = queries.page_sql(query)
    used = title_indexes(await explain(conn, sql, *args))
    assert used, f"no index of titles used for {query}"
    return used


@pytest.mark.parametrize("sort", list(Sort))
async def test_each_sort_reads_its_index_on_every_page(
    conn: asyncpg.Connection, sort: Sort
) -> None:
    index = f"titles_sort_{sort.value.removeprefix('-')}_idx"
    first = TitleQuery(sort=sort)
    assert await page_indexes(conn, first) == {index}
    page = await queries.title_page(conn, first)
    assert len(page["items"]) == 20 and page["next_after"]
    later = first.model_copy(update={"after": tuple(page["next_after"])})
    assert await page_indexes(conn, later) == {index}
    assert (await queries.title_page(conn, later))["items"][0]["id"] != page["items"][0]["id"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (TitleQuery(genres=("Western",)), None),
        (TitleQuery(genres=("Western", "War"), sort=Sort.RATING_DESC), None),
        (TitleQuery(year=1999), None),
        (TitleQuery(year=1999, sort=Sort.YEAR_DESC), None),
        # Rarer texts: the trigram index finds their rows, then they are sorted.
        (TitleQuery(q="oskar"), "titles_title_trgm_idx"),
        (TitleQuery(q="theo's lighthouse"), "titles_title_trgm_idx"),
        (TitleQuery(q="glass harbor", sort=Sort.CREATED_DESC), "titles_title_trgm_idx"),
        # A common one: reading the sort's index until a page is full is cheaper.
        (TitleQuery(q="lighthouse"), "titles_sort_title_idx"),
        (TitleQuery(tmdb_id=5000), "titles_tmdb_id_key"),
        (TitleQuery(kind=TitleKind.EPISODE), None),
        (TitleQuery(kind=TitleKind.SERIES, genres=("Drama",), year=1980), None),
    ],
    ids=lambda value: value.canonical() if isinstance(value, TitleQuery) else str(value),
)
async def test_filters_use_an_index(
    conn: asyncpg.Connection, query: TitleQuery, expected: str | None
) -> None:
    used = await page_indexes(conn, query)
    if expected:
        assert expected in used, used


async def test_a_title_and_a_series_episodes_use_indexes(conn: asyncpg.Connection) -> None:
    series_id = await conn.fetchval("SELECT id FROM titles WHERE kind = 'series' LIMIT 1")
    assert title_indexes(await explain(conn, queries.DOCUMENT_SQL, series_id)) == {"titles_pkey"}
    assert title_indexes(await explain(conn, queries.EPISODES_SQL, series_id)) == {
        "titles_episode_number_key"
    }
    document = await queries.title_document(conn, series_id)
    assert document and document["episodes"]
    seasons = [(e["season_number"], e["episode_number"]) for e in document["episodes"]]
    assert seasons == sorted(seasons)
