"""PostgreSQL access: asyncpg pools are created here, and only here, from settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from streamcore.settings import Settings


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come back as Python objects, not strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(settings: Settings, dsn: str | None = None) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn or settings.postgres_dsn,
        min_size=settings.postgres.pool_min_size,
        max_size=settings.postgres.pool_max_size,
        command_timeout=settings.postgres.command_timeout_s,
        init=_init_connection,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def pool_context(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings)
    try:
        yield pool
    finally:
        await pool.close()


async def connect(settings: Settings, dsn: str | None = None) -> asyncpg.Connection:
    """A single connection, for one-off work (migrations, CLI commands)."""
    conn = await asyncpg.connect(dsn or settings.postgres_dsn, timeout=10)
    await _init_connection(conn)
    return conn


async def ensure_database(settings: Settings) -> bool:
    """Create the configured database on the stack's own server if missing; True if created."""
    admin_dsn = settings.postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", settings.postgres.database
        )
        if exists:
            return False
        name = settings.postgres.database.replace('"', '""')
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()
