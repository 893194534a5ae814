"""A worker that dies mid-encode: its job is requeued by the reaper and completes once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from devstack import control
from streamcore.assets import keys, repository
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from streamcore.tasks import reaper_stats
from streamcore.tasks.queue import TaskName, create_celery
from tests.integration.jobs_helpers import long_clip, upload, wait_until
from workers import reaper

pytestmark = pytest.mark.stack
STREAMCORE = [sys.executable, "-m", "cli"]


def _requeued_total(stack: Settings) -> int:
    client = redis.Redis.from_url(stack.redis_dsn)
    try:
        stats = reaper_stats.read(client)
    finally:
        client.close()
    return stats.requeued_total if stats else 0


async def _published_versions(stack: Settings, asset_id: str) -> set[int]:
    async with open_storage(stack) as storage:
        prefix = keys.asset_prefix(uuid.UUID(asset_id))
        found = [i.key async for i in storage.list(stack.s3.media_bucket, prefix)]
    return {v for key in found if (v := keys.version_of(uuid.UUID(asset_id), key)) is not None}


def _kill_tree(pid: int) -> None:
    """SIGKILL the program's whole process group (celery, its pool children, their FFmpeg):
    a host crash or an OOM kill, with no chance to hand anything back."""
    os.killpg(os.getpgid(pid), signal.SIGKILL)


async def _job_id(stack: Settings, asset_id: str) -> uuid.UUID | None:
    async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
        row = await repository.get(pool, uuid.UUID(asset_id))
    assert row is not None
    return row.job_id


def test_a_job_whose_worker_tree_was_killed_mid_encode_is_ready_after_a_restart(
    stack: Settings, api: httpx.Client, ffmpeg: Path
) -> None:
    asset = upload(api, long_clip(stack, ffmpeg))
    dead_job = asyncio.run(_job_id(stack, asset["id"]))
    first = wait_until(
        api, asset["id"], lambda a: a["progress"] >= 30, "encoded to 30 %", timeout_s=300
    )
    # A live job keeps beating through FFmpeg: the reaper (every 2 s, stall after 6 s in the
    # test settings) has left it alone all along.
    assert first["status"] == "processing" and first["attempts"] == 1
    assert asyncio.run(_job_id(stack, asset["id"])) == dead_job
    requeued_before = _requeued_total(stack)
    pool = next(p for p in control.status(stack).worker_pools if p.name == "worker-transcode")
    assert pool.pid is not None
    _kill_tree(pool.pid)
    killed_at = time.monotonic()

    restarted = subprocess.run(
        [*STREAMCORE, "restart", "worker", "--json"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert restarted.returncode == 0, restarted.stderr
    # `worker` is every pool, the subscriptions' billing pool and the streaming service's
    # recommendations pool too (devstack/pools.py).
    assert sorted(json.loads(restarted.stdout)["restarted"]) == [
        "worker-billing", "worker-control", "worker-recommendations", "worker-transcode",
    ]  # fmt: skip

    wait_until(api, asset["id"], lambda a: a["attempts"] >= 2, "processing resumed", 120)
    assert asyncio.run(_job_id(stack, asset["id"])) != dead_job
    assert _requeued_total(stack) > requeued_before
    # The dead job's message, as the broker redelivers it after its visibility timeout: its
    # job id is stale, so it is skipped and changes nothing.
    celery = create_celery(stack)
    celery.send_task(str(TaskName.PROCESS_ASSET), args=[asset["id"], str(dead_job), 0])
    celery.close()

    final = wait_until(
        api, asset["id"], lambda a: a["status"] in ("ready", "failed"), "final", timeout_s=300
    )
    assert final["status"] == "ready", final["error"]
    assert time.monotonic() - killed_at < 300, "not ready within 5 minutes of the kill"
    assert final["version"] == 1 and final["attempts"] == 2
    assert asyncio.run(_published_versions(stack, asset["id"])) == {1}
    assert not list(stack.scratch_dir.glob(f"{asset['id']}-*")), "scratch left behind"


async def _processing_row(
    stack: Settings, pool: object, silent_s: float
) -> tuple[uuid.UUID, uuid.UUID]:
    """An asset row in `processing` whose job last beat `silent_s` ago (no worker runs it)."""
    assert isinstance(pool, asyncpg.Pool)
    asset_id = uuid.uuid4()
    row = await repository.create(
        pool, asset_id=asset_id, title="reaper", source_key=f"uploads/{asset_id}/x.mp4",
        source_filename="x.mp4", source_size=1, content_type="video/mp4",
    )  # fmt: skip
    await pool.execute(
        "UPDATE assets SET status = 'processing', "
        "heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1",
        asset_id, silent_s,
    )  # fmt: skip
    assert row.job_id is not None
    return asset_id, row.job_id


async def test_the_reaper_requeues_the_silent_job_and_leaves_the_live_one(
    stack: Settings,
) -> None:
    stall = stack.worker.stall_after_s
    async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=2) as pool:
        live, live_job = await _processing_row(stack, pool, silent_s=0)
        silent, silent_job = await _processing_row(stack, pool, silent_s=stall * 10)
        try:
            requeued = [a.id for a in await reaper.reap_stalled(stack)]
            live_row = await repository.get(pool, live)
            silent_row = await repository.get(pool, silent)
        finally:
            await pool.execute("DELETE FROM assets WHERE id = ANY($1::uuid[])", [live, silent])
    assert live not in requeued
    assert live_row is not None and live_row.job_id == live_job
    assert live_row.status == "processing"
    # Requeued by this call, or by the stack's own reaper a moment before it.
    assert silent_row is not None and silent_row.job_id != silent_job
    assert silent_row.status == "uploaded"


async def test_two_reapers_racing_requeue_a_job_once(stack: Settings) -> None:
    async with pool_context(stack, schema=Schema.CATALOG, min_size=2, max_size=4) as pool:
        asset_id, job_id = await _processing_row(stack, pool, silent_s=0)
        try:
            results = await asyncio.gather(
                *(repository.requeue(pool, asset_id, job_id, silent_for_s=None) for _ in range(4))
            )
        finally:
            await pool.execute("DELETE FROM assets WHERE id = $1", asset_id)
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].job_id != job_id


def test_reprocess_force_requeues_a_processing_asset(stack: Settings) -> None:
    async def row() -> tuple[uuid.UUID, uuid.UUID]:
        async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
            return await _processing_row(stack, pool, silent_s=0)

    asset_id, job_id = asyncio.run(row())
    refused = subprocess.run(
        [*STREAMCORE, "assets", "reprocess", str(asset_id), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and "409" in refused.stderr + refused.stdout
    forced = subprocess.run(
        [*STREAMCORE, "assets", "reprocess", str(asset_id), "--force", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert asyncio.run(_job_id(stack, str(asset_id))) != job_id
