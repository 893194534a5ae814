"""The database's idea of the asset states is the state machine's (streamcore/assets/states.py).

The CHECK constraint is read back from the live database's catalog (pg_constraint), so a
migration that drifts from AssetStatus, or a state added to one side only, fails here.
"""

from __future__ import annotations

import re
import uuid

import asyncpg
import pytest

from streamcore.assets.states import AssetStatus
from streamcore.settings import Settings

pytestmark = pytest.mark.stack

# Every CHECK on assets.status, as PostgreSQL prints it back:
# CHECK ((status = ANY (ARRAY['uploaded'::text, 'processing'::text, ...])))
STATUS_CHECKS = """
    SELECT c.conname, pg_get_constraintdef(c.oid) AS definition
    FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.conrelid = 'catalog.assets'::regclass AND c.contype = 'c' AND a.attname = 'status'
"""


async def test_the_status_check_allows_exactly_the_state_machines_states(stack: Settings) -> None:
    conn = await asyncpg.connect(stack.postgres_dsn)
    try:
        checks = await conn.fetch(STATUS_CHECKS)
    finally:
        await conn.close()
    assert [c["conname"] for c in checks] == ["assets_status_check"], checks
    allowed = set(re.findall(r"'([^']*)'::text", checks[0]["definition"]))
    assert allowed == set(AssetStatus), checks[0]["definition"]


async def test_a_state_the_machine_does_not_know_is_refused(stack: Settings) -> None:
    conn = await asyncpg.connect(stack.postgres_dsn)
    transaction = conn.transaction()
    await transaction.start()
    try:
        asset_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO catalog.assets (id, status, source_key, source_filename) "
            "VALUES ($1, 'uploaded', 'uploads/x/source', 'x.mp4')",
            asset_id,
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "UPDATE catalog.assets SET status = 'uploading' WHERE id = $1", asset_id
            )
    finally:
        await transaction.rollback()  # nothing is left behind
        await conn.close()
