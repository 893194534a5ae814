"""The daily partitions of ``analytics.events``: named, created and dropped here alone.

A partition holds one UTC day (``events_YYYYMMDD``). The processor creates today's and
tomorrow's ahead of time (the periodic `partitions` job) and, before inserting, any other
day's a batch needs (late events); days older than ``analytics.retention_days`` are dropped
whole, which is how raw events expire (no DELETE, no vacuum debt).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import asyncpg

log = logging.getLogger(__name__)

_NAME = re.compile(r"^events_(\d{8})$")
# Creating partitions takes a lock on the parent: one creator at a time, across processors.
_LOCK = "analytics:partitions"


def name(day: date) -> str:
    return f"events_{day:%Y%m%d}"


def day_of(name_: str) -> date | None:
    found = _NAME.match(name_)
    return datetime.strptime(found.group(1), "%Y%m%d").date() if found else None


def _create_sql(day: date) -> str:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    # Identifiers and bounds come from a date, never from input: safe to format.
    return (
        f"CREATE TABLE IF NOT EXISTS analytics.{name(day)} PARTITION OF analytics.events "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


async def existing(conn: asyncpg.Connection) -> set[date]:
    rows = await conn.fetch(
        """
        SELECT child.relname FROM pg_inherits
        JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
        JOIN pg_class child ON child.oid = pg_inherits.inhrelid
        JOIN pg_namespace ns ON ns.oid = parent.relnamespace
        WHERE ns.nspname = 'analytics' AND parent.relname = 'events'
        """
    )
    return {d for row in rows if (d := day_of(row["relname"])) is not None}


async def ensure(pool: asyncpg.Pool, days: Iterable[date]) -> set[date]:
    """Every day of `days` has its partition; the days that now exist (all of them)."""
    wanted = set(days)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", _LOCK)
        for day in sorted(wanted - await existing(conn)):
            await conn.execute(_create_sql(day))
            log.info("analytics: partition %s created", name(day))
    return wanted


async def drop_expired(pool: asyncpg.Pool, today: date, retention_days: int) -> list[str]:
    """Drop the partitions of days before `today - retention_days`; their names."""
    oldest = today - timedelta(days=retention_days)
    dropped = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", _LOCK)
        for day in sorted(await existing(conn)):
            if day < oldest:
                await conn.execute(f"DROP TABLE analytics.{name(day)}")
                dropped.append(name(day))
    if dropped:
        log.info("analytics: partitions past retention dropped: %s", ", ".join(dropped))
    return dropped


async def maintain(pool: asyncpg.Pool, now: datetime, retention_days: int) -> list[str]:
    """Today's and tomorrow's partitions exist; expired ones are gone (the names dropped)."""
    today = now.astimezone(UTC).date()
    await ensure(pool, (today, today + timedelta(days=1)))
    return await drop_expired(pool, today, retention_days)
