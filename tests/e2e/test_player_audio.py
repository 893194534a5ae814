"""The audio-language and captions menus in Chromium, with hls.js and dash.js (issue 18).

A studio-style clip (English stereo, French 5.1, a Spanish dub) goes through the real API and
worker, and gets French subtitles and English captions; the page lists every audio rendition
and caption track the manifests name, starts on the default audio and no captions, and a choice
in a menu makes the engine fetch and play the other language, or show the caption's cue at its
time while the video plays on.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from sample_media.generate import multi_audio_clip
from streamcore.assets import captions, keys
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from streamcore.tasks.queue import TaskName, create_celery
from tests.e2e.conftest import PlayerAsset, player_asset_of, upload_ready
from tests.e2e.driver import PlayerPage

pytestmark = pytest.mark.stack
DURATION_S = 16.0  # four 4 s segments: room to switch while the player buffers 12 s ahead
LABELS = ["English", "Français", "Español (doblaje)", "Français 5.1"]
CAPTIONS = [
    ("fr", "subtitles", "Français",
     b"WEBVTT\n\n00:00:02.000 --> 00:00:05.000\nBonjour\n\n"
     b"00:00:09.000 --> 00:00:12.000\nAu revoir\n"),
    ("en", "captions", "English (CC)",
     b"WEBVTT\n\n00:00:02.000 --> 00:00:05.000\n[music] Hello\n"),
]  # fmt: skip


@pytest.fixture(scope="module")
def player_asset(
    stack: Settings, ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> PlayerAsset:
    """This module's clip, in place of conftest's: the browser and player fixtures use it."""
    source = multi_audio_clip(
        str(ffmpeg), tmp_path_factory.mktemp("audio_media") / "dubs.mkv", DURATION_S
    )
    asset = upload_ready(stack, source, "video/x-matroska")
    assert [a["label"] for a in asset["audio"]] == LABELS
    add_captions(stack, asset["id"])
    return player_asset_of(stack, asset, DURATION_S)


def add_captions(stack: Settings, asset_id: str) -> None:
    """French subtitles and English captions, stored as the API stores them, then published
    by the stack's worker (the publish_captions task, through the broker)."""

    async def store() -> None:
        async with (
            open_storage(stack) as storage,
            pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool,
        ):
            for language, kind, label, data in CAPTIONS:
                key = keys.caption_source_key(uuid.UUID(asset_id), language, kind, "webvtt")
                await storage.put_bytes(stack.s3.uploads_bucket, key, data, content_type="text/vtt")
                await captions.upsert(
                    pool, asset_id=uuid.UUID(asset_id), language=language, kind=kind,
                    label=label, origin="sidecar", file_format="webvtt", source_key=key,
                    cue_count=1,
                )  # fmt: skip

    async def published() -> bool:
        async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
            rows = await captions.list_for(pool, uuid.UUID(asset_id))
        return len(rows) == len(CAPTIONS) and all(row.published for row in rows)

    asyncio.run(store())
    celery = create_celery(stack)
    celery.send_task(str(TaskName.PUBLISH_CAPTIONS), args=[asset_id])
    celery.close()
    deadline = time.monotonic() + 60
    while not asyncio.run(published()):
        assert time.monotonic() < deadline, "the captions were not published"
        time.sleep(0.5)


# The cue text of the track the browser shows, and the playhead: read together.
ACTIVE_CUE_JS = """() => {
  const video = document.querySelector("video");
  const shown = [...video.textTracks].filter((t) => t.mode === "showing");
  const cues = shown.flatMap((t) => [...(t.activeCues ?? [])].map((c) => c.text));
  return {time: video.currentTime, cues, shown: shown.map((t) => t.language)};
}"""


@pytest.mark.parametrize("engine", ["hls", "dash"])
def test_the_captions_menu_shows_a_cue_at_its_time(player: PlayerPage, engine: str) -> None:
    player.open(engine=engine)
    player.wait_playing()
    player.wait_for("s.captionTracks.length === 2", timeout_ms=5000)
    tracks = player.value("s.captionTracks")
    assert sorted((t["language"], t["label"], t["kind"]) for t in tracks) == [
        ("en", "English (CC)", "captions"), ("fr", "Français", "subtitles"),
    ]  # fmt: skip
    assert player.value("s.captionTrack") == -1  # off until chosen
    menu = player.page.locator("#captions")
    assert menu.is_visible()
    menu.select_option(label="Français (fr)")
    player.wait_for("s.captionTrack >= 0", timeout_ms=5000)
    # The cue is shown while the playhead is inside it, and only then.
    player.page.wait_for_function(
        f"(() => {{ const a = ({ACTIVE_CUE_JS})(); return a.cues.includes('Bonjour'); }})()",
        timeout=15000,
    )
    active = player.page.evaluate(ACTIVE_CUE_JS)
    assert active["shown"] == ["fr"]
    assert 1.9 <= active["time"] <= 5.2, active

    menu.select_option(label="Off")
    player.wait_for("s.captionTrack === -1", timeout_ms=5000)
    player.page.wait_for_function(f"(() => ({ACTIVE_CUE_JS})().shown.length === 0)()", timeout=5000)


@pytest.mark.parametrize("engine", ["hls", "dash"])
def test_the_audio_menu_switches_language_while_playing(player: PlayerPage, engine: str) -> None:
    french = player.record_requests("/audio/fr-2ch/seg_")
    player.open(engine=engine)
    player.wait_playing()
    player.wait_for("s.audioTracks.length === 4", timeout_ms=5000)
    tracks = player.value("s.audioTracks")
    assert [t["label"] for t in tracks] == LABELS
    assert [t["language"] for t in tracks] == ["en", "fr", "es", "fr"]
    assert [t["channels"] for t in tracks] == [2, 2, 2, 6]
    assert player.value("s.audioTrack") == 0  # the manifests' default: English
    menu = player.page.locator("#audio")
    assert menu.is_visible()
    assert menu.locator("option").all_inner_texts() == [
        "English (en)", "Français (fr)", "Español (doblaje) (es)", "Français 5.1 (fr)",
    ]  # fmt: skip
    assert french == []  # nothing of the French track before it is chosen

    menu.select_option(label="Français (fr)")
    player.wait_for("s.audioTrack === 1 && s.audioSwitches === 1", timeout_ms=10000)
    position = player.value("s.currentTime")
    player.wait_for(f"s.currentTime > {position} + 1", timeout_ms=10000)  # still playing
    assert french, "the French segments were fetched"
    assert player.state()["errors"] == [] or all(not e["fatal"] for e in player.state()["errors"])
