"""Queues that never starve: control work completes while the transcode pool is full."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis

from cdn_adapters.local_edge import LocalEdgeAdapter
from devstack.services import local_edge
from streamcore.cache import catalog_cache
from streamcore.cache.keys import generation
from streamcore.settings import LocalEdgeCdn, Settings
from streamcore.tasks.queue import QueueName, TaskName, create_celery
from tests.integration.jobs_helpers import long_clip, upload, wait_until
from tests.integration.published import Published

pytestmark = pytest.mark.stack

# "Within a few seconds": a control task waits for no transcode.
PROMPT_S = 5.0


def _encoding(asset: dict[str, object]) -> bool:
    return asset["status"] == "processing" and int(str(asset["progress"])) > 5


def test_purges_and_cache_invalidations_do_not_wait_for_running_transcodes(
    stack: Settings, api: httpx.Client, ffmpeg: Path, published: Published
) -> None:
    assert stack.worker.queues[QueueName.TRANSCODE].concurrency == 2  # both slots taken below
    clip = long_clip(stack, ffmpeg)
    transcodes = [upload(api, clip)["id"] for _ in range(2)]
    for asset_id in transcodes:
        wait_until(api, asset_id, _encoding, "transcode started encoding", timeout_s=180)

    # A cached edge object, and the assets' cache generation, before the control tasks.
    config = local_edge(stack)
    assert isinstance(config, LocalEdgeCdn)
    edge = LocalEdgeAdapter(stack, config)
    url = edge.signed_url(f"/{published.prefix}video/360p/seg_00001.m4s", ttl_s=300)
    httpx.get(url, timeout=10)
    assert httpx.get(url, timeout=10).headers["X-Cache"] == "HIT"
    client = redis.Redis.from_url(stack.redis_dsn)
    gen_key = generation(catalog_cache.ASSETS)
    before = client.get(gen_key)

    celery = create_celery(stack)
    started = time.monotonic()
    celery.send_task(str(TaskName.ASSETS_CHANGED))
    celery.send_task(str(TaskName.PURGE_CDN), args=[[f"/assets/{published.asset_id}/"], "q"])
    celery.close()
    invalidated = purged = None
    while invalidated is None or purged is None:
        elapsed = time.monotonic() - started
        assert elapsed < PROMPT_S, f"control tasks still waiting after {elapsed:.1f} s"
        if invalidated is None and client.get(gen_key) != before:
            invalidated = elapsed
        if purged is None and httpx.get(url, timeout=10).headers["X-Cache"] == "MISS":
            purged = elapsed
        time.sleep(0.1)
    client.close()
    # The test means something only if both transcodes were running all along.
    for asset_id in transcodes:
        assert api.get(f"/v1/assets/{asset_id}").json()["status"] == "processing"
    print(f"cache invalidated after {invalidated:.2f} s, purge after {purged:.2f} s")
    for asset_id in transcodes:  # and they finish, so that later tests get the CPU back
        final = wait_until(api, asset_id, lambda a: a["status"] in ("ready", "failed"), "done", 900)
        assert final["status"] == "ready", final["error"]
