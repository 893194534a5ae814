"""Read routing against the session stack's real streaming replica (postgres-replica-1).

Which server answered is asked of the server itself: pg_is_in_recovery() is true only on a
standby.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from devstack import control
from streamcore.db.database import Database, database_context, pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings

pytestmark = pytest.mark.stack

REPLICA = "postgres-replica-1"
WHO_AND_STATUS = (
    "SELECT pg_is_in_recovery() AS standby, "
    "(SELECT status FROM catalog.assets WHERE id = $1) AS status"
)


async def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.fixture
async def asset_id(stack: Settings) -> AsyncIterator[uuid.UUID]:
    """An id for a row the test writes; the row is deleted afterwards."""
    marker = uuid.uuid4()
    yield marker
    conn = await asyncpg.connect(stack.postgres_dsn)
    try:
        await conn.execute("DELETE FROM catalog.assets WHERE id = $1", marker)
    finally:
        await conn.close()


async def _insert(db: Database, asset_id: uuid.UUID) -> None:
    await db.primary.execute(
        "INSERT INTO catalog.assets (id, status, source_key, source_filename) "
        "VALUES ($1, 'uploaded', 'k', 'f.mp4')",
        asset_id,
    )


async def test_reads_through_reader_run_on_the_standby(stack: Settings) -> None:
    async with database_context(stack, schema=Schema.CATALOG) as db:
        pool = db.reader("someone")
        assert pool is not db.primary
        assert await pool.fetchval("SELECT pg_is_in_recovery()") is True
        assert await pool.fetchval("SELECT current_setting('port')::int") == (
            stack.stack.postgres_port + 1
        )
        assert await db.fetchval("SELECT pg_is_in_recovery()", actor="someone") is True
        assert await db.primary.fetchval("SELECT pg_is_in_recovery()") is False
        stats = {row.name: row for row in db.stats()}
    assert set(stats) == {"primary", "replica-1"}
    replica = stats["replica-1"]
    assert replica.healthy and replica.role == "replica"
    assert replica.lag_s is not None and replica.lag_s <= stack.postgres.replica_max_lag_s
    assert 1 <= replica.size <= replica.max_size == stack.postgres.pool_max_size


async def test_a_writer_reads_its_write_at_once_and_others_see_it_on_the_replica(
    stack: Settings, asset_id: uuid.UUID
) -> None:
    async with database_context(stack, schema=Schema.CATALOG) as db:
        await _insert(db, asset_id)
        db.wrote("alice")
        mine = await db.fetchrow(WHO_AND_STATUS, asset_id, actor="alice")
        assert mine is not None
        assert (mine["standby"], mine["status"]) == (False, "uploaded")  # the primary
        assert db.reader("alice") is db.primary

        # Another caller reads from the replica, which has the row once it replayed it.
        seen: list[asyncpg.Record] = []
        deadline = time.monotonic() + 10
        while not seen or seen[-1]["status"] is None:
            assert time.monotonic() < deadline, "the replica never showed the write"
            row = await db.fetchrow(WHO_AND_STATUS, asset_id, actor="bob")
            assert row is not None
            seen.append(row)
        assert all(row["standby"] for row in seen)
        assert seen[-1]["status"] == "uploaded"


async def test_stopping_the_replica_during_reads_fails_no_read(stack: Settings) -> None:
    served: collections.Counter[str] = collections.Counter()
    failures: list[BaseException] = []
    done = asyncio.Event()

    async def read_in_a_loop(db: Database) -> None:
        while not done.is_set():
            try:
                standby = await db.fetchval("SELECT pg_is_in_recovery()")
                served["replica" if standby else "primary"] += 1
            except Exception as exc:  # counted, not raised: every failed read is a finding
                failures.append(exc)
            await asyncio.sleep(0.005)

    async with database_context(stack, schema=Schema.CATALOG) as db:
        readers = [asyncio.create_task(read_in_a_loop(db)) for _ in range(4)]
        try:
            await _until(lambda: served["replica"] > 20)
            await asyncio.to_thread(control.stop_service, stack, REPLICA)
            served.clear()
            await _until(lambda: served["primary"] > 100)
            assert served["replica"] == 0
            assert not db.stats()[1].healthy
        finally:
            await asyncio.to_thread(control.restart_service, stack, REPLICA)
        served.clear()
        await _until(lambda: served["replica"] > 20)  # back in the rotation
        done.set()
        await asyncio.gather(*readers)
    assert failures == []


async def test_a_lagging_replica_is_skipped_until_it_catches_up(
    stack: Settings, asset_id: uuid.UUID
) -> None:
    fast = stack.postgres.model_copy(
        update={"replica_max_lag_s": 0.5, "replica_check_interval_s": 0.1}
    )
    settings = stack.model_copy(update={"postgres": fast})
    replica = await asyncpg.connect(stack.postgres_replica_dsns[0])
    try:
        async with database_context(settings, schema=Schema.CATALOG) as db:
            assert await db.fetchval("SELECT pg_is_in_recovery()") is True
            await replica.execute("SELECT pg_wal_replay_pause()")
            try:
                await _insert(db, asset_id)  # WAL the paused replica receives but does not apply
                await _until(lambda: not db.stats()[1].healthy)
                assert "behind the primary" in (db.stats()[1].reason or "")
                assert await db.fetchval("SELECT pg_is_in_recovery()") is False
            finally:
                await replica.execute("SELECT pg_wal_replay_resume()")
            await _until(lambda: db.stats()[1].healthy)
            row = await db.fetchrow(WHO_AND_STATUS, asset_id)
            assert row is not None
            assert (row["standby"], row["status"]) == (True, "uploaded")
    finally:
        await replica.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_replica_down_at_start_neither_blocks_the_start_nor_gets_reads(
    stack: Settings,
) -> None:
    real = stack.postgres_replica_dsns[0]
    dead = real.replace(f":{stack.stack.postgres_port + 1}/", f":{_closed_port()}/")
    async with pool_context(stack, schema=Schema.CATALOG) as primary:
        db = Database(stack, primary, [dead, real], schema=Schema.CATALOG)
        started = time.monotonic()
        await db.start()
        try:
            assert time.monotonic() - started < 3
            stats = {row.name: row for row in db.stats()}
            assert not stats["replica-1"].healthy
            assert "ConnectionRefusedError" in (stats["replica-1"].reason or "")
            assert stats["replica-2"].healthy
            answers = [await db.fetchval("SELECT pg_is_in_recovery()") for _ in range(6)]
            assert answers == [True] * 6
        finally:
            await db.close()


def test_status_json_lists_the_replica_healthy(stack: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "status", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [row["name"] for row in report["replicas"]] == [REPLICA]
    row = report["replicas"][0]
    assert row["state"] == "healthy"
    assert isinstance(row["lag_s"], float) and row["lag_s"] <= stack.postgres.replica_max_lag_s
    assert f":{stack.stack.postgres_port + 1}/" in row["url"]
    assert isinstance(row["pid"], int)
    assert stack.postgres.password is not None
    assert stack.postgres.password.get_secret_value() not in result.stdout
