"""The history's reads run on its index with a million rows: EXPLAIN of the exact queries the
service sends (streaming/history/queries.py), on a scratch copy of the table holding
1,000,000 rows over 50,000 profiles (tests/integration/history/large.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from streamcore.db.database import connect
from streamcore.settings import Settings
from streaming.history import queries
from tests.integration.history.large import drop, load, profile_id

pytestmark = pytest.mark.stack

SCHEMA = "history_explain"
INDEX = "watch_history_recent_idx"


@pytest.fixture
async def conn(stack: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await connect(stack)
    try:
        await load(connection, SCHEMA, 1_000_000, 50_000)
        await connection.execute(f'SET search_path TO "{SCHEMA}"')
        yield connection
    finally:
        await drop(connection, SCHEMA)
        await connection.close()


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


async def _plan(conn: asyncpg.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    raw = await conn.fetchval(f"EXPLAIN (FORMAT JSON, ANALYZE) {sql}", *args)
    return _nodes(json.loads(raw)[0]["Plan"])


def _on_the_index(nodes: list[dict[str, Any]]) -> None:
    kinds = {node["Node Type"] for node in nodes}
    assert "Seq Scan" not in kinds, kinds
    scans = [node for node in nodes if "Index Name" in node]
    assert [node["Index Name"] for node in scans] == [INDEX], [
        (node["Node Type"], node.get("Index Name")) for node in nodes
    ]


async def test_history_and_continue_watching_run_on_the_index(conn: asyncpg.Connection) -> None:
    _on_the_index(await _plan(conn, queries.HISTORY_SQL, profile_id(123), None, None, 50))
    _on_the_index(await _plan(conn, queries.CONTINUE_SQL, profile_id(456), 0.05, 0.9, 30))
    # Each profile has its twenty rows, and the queries find them.
    assert len(await conn.fetch(queries.HISTORY_SQL, profile_id(123), None, None, 100)) == 20
    assert len(await conn.fetch(queries.CONTINUE_SQL, profile_id(456), 0.0, 1.0, 100)) == 20
