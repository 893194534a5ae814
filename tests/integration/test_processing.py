"""From upload to published ladder, through the stack's real API, broker and worker.

The stack's worker encodes with the FFmpeg its settings name (tests/conftest.py); the viewer's
side, FFmpeg as an HLS and DASH client, runs with every FFmpeg found (the test ids say which).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import m3u8
import pytest

from sample_media.generate import Clip, generate, make_fixture
from streamcore.assets import keys, repository
from streamcore.binaries import FFmpegInfo
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage import ObjectNotFound
from streamcore.storage.s3 import open_storage
from streamcore.tasks.queue import TaskName, create_celery
from tests.assets_http import admin_client, wait_final
from tests.decode_check import assert_plays
from workers import processing

pytestmark = pytest.mark.stack
STREAMCORE = [sys.executable, "-m", "cli"]


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory, ffmpeg: Path) -> Path:
    out = tmp_path_factory.mktemp("media")
    generate(str(ffmpeg), Clip("small", "small.mp4", 854, 480, 25, 4, 2, ""), out)
    return out


@pytest.fixture(scope="module")
def small_asset(stack: Settings, media_dir: Path) -> dict[str, Any]:
    """small.mp4 uploaded once and processed: what the tests that only read it share."""
    with admin_client(stack) as api:
        return wait_final(api, upload(api, media_dir / "small.mp4", "démo clip.mp4")["id"])


def playback_of(streaming_url: str, asset_id: str) -> dict[str, Any]:
    """The asset's playback URLs, from the streaming service."""
    response = httpx.get(f"{streaming_url}/v1/playback/{asset_id}", timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def upload(api: httpx.Client, path: Path, filename: str | None = None) -> dict[str, Any]:
    response = api.post(
        "/v1/assets",
        content=path.read_bytes(),
        headers={
            "Content-Type": "application/octet-stream",
            "X-Filename": quote(filename or path.name),
        },
    )
    assert response.status_code == 202, response.text
    return response.json()


async def published_keys(settings: Settings, asset_id: str) -> list[str]:
    async with open_storage(settings) as storage:
        prefix = keys.asset_prefix(uuid.UUID(asset_id))
        return sorted([i.key async for i in storage.list(settings.s3.media_bucket, prefix)])


async def put_source(settings: Settings, key: str, path: Path) -> None:
    async with open_storage(settings) as storage:
        await storage.put_file(settings.s3.uploads_bucket, key, path, content_type="video/mp4")


async def create_asset(settings: Settings, asset_id: uuid.UUID, name: str) -> uuid.UUID:
    """Asset `asset_id`'s row as an upload creates it (title `name`, source `{name}.mp4`).

    Its source is wherever `keys.source_key` puts `{name}.mp4`; returns the row's job id.
    """
    async with pool_context(settings, schema=Schema.CATALOG) as pool:
        row = await repository.create(
            pool, asset_id=asset_id, title=name,
            source_key=keys.source_key(asset_id, f"{name}.mp4"), source_filename=f"{name}.mp4",
            source_size=1, content_type="video/mp4",
        )  # fmt: skip
    assert row.job_id is not None
    return row.job_id


async def source_exists(settings: Settings, asset: dict[str, Any]) -> bool:
    key = keys.source_key(uuid.UUID(asset["id"]), asset["source"]["filename"])
    async with open_storage(settings) as storage:
        try:
            await storage.head(settings.s3.uploads_bucket, key)
        except ObjectNotFound:
            return False
    return True


def test_an_upload_becomes_a_playable_ladder(stack: Settings, small_asset: dict[str, Any]) -> None:
    final = small_asset
    assert final["status"] == "ready", final["error"]
    assert final["progress"] == 100 and final["version"] == 1
    assert sorted(r["height"] for r in final["renditions"]) == [360, 480]
    assert final["source"]["probe"]["video"]["width"] == 854

    published = asyncio.run(published_keys(stack, final["id"]))
    prefix = f"assets/{final['id']}/v1/"
    assert all(key.startswith(prefix) for key in published)
    for name in ("master.m3u8", "manifest.mpd"):
        assert prefix + name in published
    assert asyncio.run(source_exists(stack, final)), "processing must keep the original"
    leftovers = [p for p in stack.scratch_dir.iterdir() if p.name.startswith(final["id"])]
    assert leftovers == [], "scratch folders must be cleaned up"


def test_every_ffmpeg_plays_it_through_each_source(
    streaming_url: str, small_asset: dict[str, Any], each_ffmpeg: FFmpegInfo
) -> None:
    # FFmpeg as a client, over HTTP, through each playback source (the edge, then the origin).
    # `-map 0` decodes every rendition of every pathway the viewer's master lists.
    playback = playback_of(streaming_url, small_asset["id"])
    assert [source["name"] for source in playback["sources"]] == ["edge", "origin"]
    duration_s = small_asset["source"]["probe"]["duration_s"]
    tracks = len(small_asset["renditions"]) + 1  # and the audio
    for source in playback["sources"]:
        # HLS: every pathway's variants and audio; DASH: the first BaseURL's.
        assert_plays(each_ffmpeg.path, source["hls"], duration_s=duration_s, streams=2 * tracks)
        assert_plays(each_ffmpeg.path, source["dash"], duration_s=duration_s, streams=tracks)


# FFmpeg's listing of its input: "  Program 2" then that variant's "    Stream #0:4: Video: ...";
# and what it picked: "  Stream #0:4 -> #0:0 (h264 (native) -> wrapped_avframe (native))".
_PROGRAM = re.compile(r"^\s+Program (\d+)")
_STREAM = re.compile(r"^\s+Stream #0:(\d+)\S*: (Video|Audio)")
_MAPPED = re.compile(r"^\s+Stream #0:(\d+) -> #0:\d+")


def picked_variants(stderr: str) -> list[int]:
    """The variants (programs, in master order) of the streams FFmpeg picked by itself."""
    program_of: dict[int, int] = {}
    program = -1
    for line in stderr.splitlines():
        if match := _PROGRAM.match(line):
            program = int(match[1])
        elif (match := _STREAM.match(line)) and program >= 0:
            program_of.setdefault(int(match[1]), program)
    return [program_of[int(m[1])] for line in stderr.splitlines() if (m := _MAPPED.match(line))]


def test_a_client_without_steering_starts_on_the_primary_pathway(
    streaming_url: str, small_asset: dict[str, Any], each_ffmpeg: FFmpegInfo
) -> None:
    """FFmpeg ignores EXT-X-CONTENT-STEERING: it picks from every pathway's variants."""
    master_url = playback_of(streaming_url, small_asset["id"])["sources"][0]["hls"]
    variants = m3u8.loads(httpx.get(master_url).text).playlists
    # Its own choice (no -map): the best video and audio, the first listed among equals.
    chose = subprocess.run(
        [str(each_ffmpeg.path), "-hide_banner", "-nostdin", "-i", master_url, "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert chose.returncode == 0, chose.stderr
    picked = picked_variants(chose.stderr)
    assert len(picked) == 2, chose.stderr  # one video, one audio
    edge = master_url.split("/t/", 1)[0]
    for program in picked:
        assert variants[program].uri.startswith(edge), (variants[program].uri, chose.stderr)


BAD_INPUTS = {
    "text_as_mp4": "not a media file",
    "truncated": "truncated",
    "audio_only": "no video stream",
    "huge_resolution": "too large",
    "still_image": "still image",
}


@pytest.mark.parametrize("fixture", sorted(BAD_INPUTS))
def test_bad_input_fails_with_a_reason_and_keeps_the_original(
    stack: Settings, api: httpx.Client, ffmpeg: Path, tmp_path: Path, fixture: str
) -> None:
    path = make_fixture(str(ffmpeg), fixture, tmp_path)
    final = wait_final(api, upload(api, path)["id"])
    assert final["status"] == "failed"
    assert BAD_INPUTS[fixture] in final["error"].lower()
    assert "Traceback" not in final["error"]
    assert asyncio.run(source_exists(stack, final))
    assert httpx.get(f"{stack.catalog_api.url}/healthz", timeout=10).status_code == 200


def test_reprocess_publishes_a_new_version_and_removes_the_old(
    stack: Settings, api: httpx.Client, streaming_url: str, media_dir: Path
) -> None:
    first = wait_final(api, upload(api, media_dir / "small.mp4")["id"])
    assert first["status"] == "ready"
    master_url = playback_of(streaming_url, first["id"])["sources"][0]["hls"]
    # A media playlist: shared by every viewer, so the edge keeps it (masters are per viewer).
    edge_url = m3u8.loads(httpx.get(master_url).text).playlists[0].uri
    assert edge_url.startswith(master_url.split("/t/", 1)[0])  # the edge's pathway comes first
    assert httpx.get(edge_url).status_code == 200
    assert httpx.get(edge_url).headers["X-Cache"] == "HIT"
    result = subprocess.run(
        [*STREAMCORE, "assets", "reprocess", first["id"], "--wait", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    second = json.loads(result.stdout)
    assert second["status"] == "ready" and second["version"] == 2
    published = asyncio.run(published_keys(stack, first["id"]))
    assert published and all(k.startswith(f"assets/{first['id']}/v2/") for k in published)
    # After the switch, a retried task purges the old version from the CDNs: the edge forgets it.
    deadline = time.monotonic() + 30
    while httpx.get(edge_url).headers.get("X-Cache") == "HIT":
        assert time.monotonic() < deadline, "the replaced version was never purged from the edge"
        time.sleep(0.5)


def test_a_repeated_job_is_a_no_op_and_leaves_one_version(
    stack: Settings, api: httpx.Client, media_dir: Path
) -> None:
    asset = wait_final(api, upload(api, media_dir / "small.mp4")["id"])
    before = asyncio.run(published_keys(stack, asset["id"]))

    async def rerun() -> processing.Outcome:
        async with pool_context(stack, schema=Schema.CATALOG) as pool:
            row = await repository.get(pool, uuid.UUID(asset["id"]))
        assert row is not None and row.job_id is not None
        return await processing.process_asset(stack, row.id, row.job_id)

    assert asyncio.run(rerun()) == processing.Outcome.SKIPPED
    assert asyncio.run(published_keys(stack, asset["id"])) == before


def test_a_job_killed_mid_encode_completes_once_on_retry(
    stack: Settings, api: httpx.Client, media_dir: Path
) -> None:
    """A worker killed mid-encode: the redelivered job yields one complete version, no orphans."""
    asset_id = uuid.uuid4()
    asyncio.run(put_source(stack, keys.source_key(asset_id, "kill.mp4"), media_dir / "small.mp4"))
    job_id = asyncio.run(create_asset(stack, asset_id, "kill"))
    code = (
        "import asyncio, uuid; from streamcore.settings import load_settings; "
        "from workers.processing import process_asset; "
        "asyncio.run(process_asset(load_settings(), "
        f"uuid.UUID('{asset_id}'), uuid.UUID('{job_id}')))"
    )
    victim = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while api.get(f"/v1/assets/{asset_id}").json()["progress"] < 10:
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.05)
    victim.kill()
    victim.wait()
    # Its FFmpeg child is in the victim's session only if the runner put it there; kill any.
    subprocess.run(["pkill", "-9", "-f", f"{asset_id}-"], check=False)
    assert api.get(f"/v1/assets/{asset_id}").json()["status"] == "processing"

    assert (
        asyncio.run(processing.process_asset(stack, asset_id, job_id)) == processing.Outcome.READY
    )
    published = asyncio.run(published_keys(stack, str(asset_id)))
    assert published and all(k.startswith(f"assets/{asset_id}/v1/") for k in published)
    assert api.get(f"/v1/assets/{asset_id}").json()["version"] == 1
    assert not list(stack.scratch_dir.glob(f"{asset_id}-*")), "the killed attempt's scratch remains"


def test_a_failing_job_lands_in_the_dead_letters_and_can_be_retried(
    stack: Settings, api: httpx.Client, media_dir: Path
) -> None:
    asset_id = uuid.uuid4()
    job_id = asyncio.run(create_asset(stack, asset_id, "lost"))  # its source is not uploaded
    celery = create_celery(stack)
    celery.send_task(str(TaskName.PROCESS_ASSET), args=[str(asset_id), str(job_id)])
    celery.close()
    failed = wait_final(api, str(asset_id))
    assert failed["status"] == "failed"
    assert "not found" in failed["error"]

    listing = subprocess.run(
        [*STREAMCORE, "jobs", "dead", "--json"], capture_output=True, text=True, check=True
    )
    dead = [job for job in json.loads(listing.stdout) if job["args"][0] == str(asset_id)]
    assert len(dead) == 1 and dead[0]["task"] == TaskName.PROCESS_ASSET

    asyncio.run(put_source(stack, keys.source_key(asset_id, "lost.mp4"), media_dir / "small.mp4"))
    retried = subprocess.run(
        [*STREAMCORE, "jobs", "retry", dead[0]["id"]], capture_output=True, text=True, check=False
    )
    assert retried.returncode == 0, retried.stderr
    again = wait_final(api, str(asset_id), min_attempts=failed["attempts"] + 1)
    assert again["status"] == "ready"
    listing = subprocess.run(
        [*STREAMCORE, "jobs", "dead", "--json"], capture_output=True, text=True, check=True
    )
    assert dead[0]["id"] not in [job["id"] for job in json.loads(listing.stdout)]
