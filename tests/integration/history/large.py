"""A large watch history in a scratch schema of its own (so the stack's tables stay as they
are): `rows` rows over `profiles` profiles, a copy of ``streaming.watch_history`` with its
indexes, loaded by one INSERT ... SELECT and analysed. Used by the index test and by
bench/history.py."""

from __future__ import annotations

import uuid

import asyncpg


def profile_id(n: int) -> uuid.UUID:
    """The n-th profile's id (the same the SQL below makes)."""
    import hashlib

    return uuid.UUID(hashlib.md5(f"p{n}".encode()).hexdigest())  # noqa: S324 (ids, not security)


async def load(conn: asyncpg.Connection, schema: str, rows: int, profiles: int) -> None:
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.execute(
        f'CREATE TABLE "{schema}".watch_history (LIKE streaming.watch_history '
        "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    # The same indexes under the same names (LIKE ... INCLUDING INDEXES would rename them).
    for (definition,) in await conn.fetch(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'streaming' "
        "AND tablename = 'watch_history'"
    ):
        await conn.execute(definition.replace(" ON streaming.", f' ON "{schema}".'))
    # Row n: profile n % profiles; its title, series for one row in five (episodes), a
    # completion spread over [0, 1], watched over the past year.
    await conn.execute(
        f"""
        INSERT INTO "{schema}".watch_history
            (profile_id, title_id, series_id, asset_id, position_s, duration_s, completion,
             first_watched_at, last_watched_at, times_completed)
        SELECT md5('p' || (n % $2))::uuid, md5('t' || n)::uuid,
               CASE WHEN n % 5 = 0 THEN md5('s' || (n % 997))::uuid END,
               md5('a' || n)::uuid, (n % 100) * 60.0, 6000.0, (n % 100) / 100.0,
               now() - make_interval(secs => (n % 31536000)),
               now() - make_interval(secs => (n % 31536000)), (n % 100 > 90)::int
        FROM generate_series(1, $1) AS n
        """,
        rows, profiles,
    )  # fmt: skip
    await conn.execute(f'ANALYZE "{schema}".watch_history')


async def drop(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
