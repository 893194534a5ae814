"""What the queue, retry and reaper tests share: a long clip, uploads, waiting, dead letters."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import redis

from sample_media.generate import Clip, generate
from streamcore.settings import Settings
from streamcore.tasks.dead_letters import DeadJob, DeadLetters

# As the issue tried it: 30 s of 1080p25 with stereo, the full ladder (minutes on 2 cores).
LONG_CLIP = Clip("long", "long_1080p25_30s.mp4", 1920, 1080, 25, 30, 2, "")


def long_clip(stack: Settings, ffmpeg: Path) -> Path:
    """The long clip, generated once per test stack."""
    folder = stack.stack.data_dir / "clips"
    path = folder / LONG_CLIP.filename
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        generate(str(ffmpeg), LONG_CLIP, folder)
    return path


def upload(api: httpx.Client, path: Path) -> dict[str, Any]:
    response = api.post(
        "/v1/assets",
        content=path.read_bytes(),
        headers={"Content-Type": "application/octet-stream", "X-Filename": quote(path.name)},
    )
    assert response.status_code == 202, response.text
    return response.json()


def wait_until(
    api: httpx.Client, asset_id: str, done: Any, what: str, timeout_s: float = 120
) -> dict[str, Any]:
    """The asset once `done(asset)` holds; AssertionError naming `what` if not in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        asset = api.get(f"/v1/assets/{asset_id}").json()
        if done(asset):
            return asset
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s: {asset}"
        time.sleep(0.25)


def dead_letters_for(stack: Settings, task: str, marker: str) -> list[DeadJob]:
    """The dead letters of `task` whose payload mentions `marker`."""
    client = redis.Redis.from_url(stack.redis_dsn)
    try:
        jobs = DeadLetters(client).list()
    finally:
        client.close()
    return [job for job in jobs if job.task == task and marker in str(job.args)]
