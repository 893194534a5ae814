"""Captions published into a ready asset without re-encoding it, read back as clients do.

The rows and kept files are written as the catalog API writes them (streamcore/assets/captions.py,
the uploads bucket); the publish_captions task runs in the stack's control worker, sent through
the real broker, or as its plain function. What comes back through the origin's signed URLs is
checked: the SUBTITLES group and segment playlists (m3u8), the DASH text sets, the cue in the
segment that covers its time, and the timestamp map that lines it up with the video.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import m3u8
import pytest

from sample_media.generate import Clip, generate, subtitled_clip
from streamcore.assets import captions, keys
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from streamcore.tasks.queue import TaskName, create_celery
from tests.assets_http import admin_client, wait_final
from tests.integration.test_audio_languages import upload
from workers.captions import publish_captions

pytestmark = pytest.mark.stack
NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
FRENCH = b"""WEBVTT

00:00:01.000 --> 00:00:02.500
Bonjour

00:00:05.000 --> 00:00:06.000
<i>Au revoir</i>
"""
ENGLISH_SRT = b"1\r\n00:00:04,500 --> 00:00:05,500\r\nHello & welcome\r\n\r\n"


@pytest.fixture(scope="module")
def asset(
    stack: Settings, ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    # 9 s: three segments of 4, 4 and 1 s, so cues fall in different segments.
    clip = Clip("captioned", "captioned.mp4", 320, 240, 25, 9, 2, "")
    source = generate(str(ffmpeg), clip, tmp_path_factory.mktemp("captioned"))
    with admin_client(stack) as api:
        response = upload(api, source)
        assert response.status_code == 202, response.text
        ready = wait_final(api, response.json()["id"])
    assert ready["status"] == "ready", ready["error"]
    return ready


async def add_caption(
    settings: Settings, asset_id: str, language: str, kind: str, data: bytes, file_format: str
) -> captions.Caption:
    """What POST /v1/assets/{id}/captions stores: the file as sent, then the row."""
    key = keys.caption_source_key(uuid.UUID(asset_id), language, kind, file_format)
    async with open_storage(settings) as storage:
        await storage.put_bytes(settings.s3.uploads_bucket, key, data, content_type="text/plain")
    async with pool_context(settings, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
        return await captions.upsert(
            pool, asset_id=uuid.UUID(asset_id), language=language, kind=kind,  # type: ignore[arg-type]
            label={"fr": "Français", "en": "English (CC)"}[language], origin="sidecar",
            file_format=file_format, source_key=key, cue_count=2,  # type: ignore[arg-type]
        )  # fmt: skip


async def rows(settings: Settings, asset_id: str) -> list[captions.Caption]:
    async with pool_context(settings, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
        return await captions.list_for(pool, uuid.UUID(asset_id))


def signed_sources(stack: Settings, asset_id: str, name: str = "origin") -> dict[str, str]:
    """The playback URLs of one source: "origin", or "edge" (the local CDN in front of it)."""
    response = httpx.get(f"{stack.gateway.entry_url}/v1/playback/{asset_id}", timeout=10)
    assert response.status_code == 200, response.text
    source: dict[str, str] = next(s for s in response.json()["sources"] if s["name"] == name)
    return source


def get(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return response.text


def test_captions_are_published_beside_the_video_and_read_back(
    stack: Settings, asset: dict[str, Any]
) -> None:
    asset_id = asset["id"]
    asyncio.run(add_caption(stack, asset_id, "fr", "subtitles", FRENCH, "webvtt"))
    asyncio.run(add_caption(stack, asset_id, "en", "captions", ENGLISH_SRT, "srt"))
    published = asyncio.run(publish_captions(stack, uuid.UUID(asset_id)))
    assert published is not None
    assert all(
        row.published and row.published_version == 1 for row in asyncio.run(rows(stack, asset_id))
    )

    source = signed_sources(stack, asset_id)
    master = m3u8.loads(get(source["hls"]), uri=source["hls"])
    subtitles = [m for m in master.media if m.type == "SUBTITLES"]
    by_name = {m.name: m for m in subtitles}
    assert set(by_name) == {"Français", "English (CC)"}
    assert by_name["Français"].language == "fr" and by_name["English (CC)"].language == "en"
    assert "describes-music-and-sound" in (by_name["English (CC)"].characteristics or "")
    assert by_name["Français"].characteristics is None
    assert {v.stream_info.subtitles for v in master.playlists} <= {m.group_id for m in subtitles}
    assert all(v.stream_info.subtitles for v in master.playlists)

    video_uri = urljoin(source["hls"], master.playlists[0].uri)
    video = m3u8.loads(get(video_uri))
    french_uri = urljoin(source["hls"], by_name["Français"].uri)
    french = m3u8.loads(get(french_uri))
    # The video's segments, one WebVTT segment each, the same durations.
    assert [s.duration for s in french.segments] == [s.duration for s in video.segments]
    texts = [get(urljoin(french_uri, s.uri)) for s in french.segments]
    assert [("Bonjour" in t, "Au revoir" in t) for t in texts] == [
        (True, False), (False, True), (False, False),
    ]  # fmt: skip
    # Cue time 0 is the video's first frame, which the media timeline has a little later.
    (mpegts,) = set(re.findall(r"X-TIMESTAMP-MAP=MPEGTS:(\d+),LOCAL:00:00:00.000", "".join(texts)))
    assert 0 < int(mpegts) < 90_000  # the ladder's offset: a few frames, under a second
    english = get(urljoin(source["hls"], by_name["English (CC)"].uri))
    first = m3u8.loads(english).segments[1].uri  # 4.5 s: the second segment
    assert "Hello &amp; welcome" in get(
        urljoin(urljoin(source["hls"], by_name["English (CC)"].uri), first)
    )

    mpd = ET.fromstring(get(source["dash"]))  # noqa: S314 (our own output)
    texts_sets = mpd.findall("mpd:Period/mpd:AdaptationSet[@contentType='text']", NS)
    assert [(s.get("lang"), s.findtext("mpd:Label", namespaces=NS)) for s in texts_sets] == [
        ("en", "English (CC)"), ("fr", "Français"),
    ]  # fmt: skip
    roles = [s.find("mpd:Role", NS).get("value") for s in texts_sets]  # type: ignore[union-attr]
    assert roles == ["caption", "subtitle"]
    base = texts_sets[1].findtext("mpd:Representation/mpd:BaseURL", namespaces=NS)
    assert base == "subtitles/fr-subtitles/fr-subtitles.vtt"
    whole = get(urljoin(source["dash"], base))
    # DASH has no timestamp map: the whole file's cues are moved onto the media timeline.
    offset_ms = round(int(mpegts) / 90)
    assert f"00:00:01.{offset_ms:03d} --> " in whole and "Bonjour" in whole

    # Publishing the same rows again changes nothing.
    async def manifests() -> tuple[bytes, bytes]:
        async with open_storage(stack) as storage:
            bucket = stack.s3.media_bucket
            hls, _ = await storage.get_bytes(
                bucket, keys.output_key(uuid.UUID(asset_id), 1, "master.m3u8")
            )
            dash, _ = await storage.get_bytes(
                bucket, keys.output_key(uuid.UUID(asset_id), 1, "manifest.mpd")
            )
            return hls, dash

    before = asyncio.run(manifests())
    again = asyncio.run(publish_captions(stack, uuid.UUID(asset_id)))
    assert again == published and asyncio.run(manifests()) == before


def test_a_removed_caption_leaves_the_manifests_and_the_bucket_through_the_task(
    stack: Settings, asset: dict[str, Any]
) -> None:
    asset_id = asset["id"]
    asyncio.run(add_caption(stack, asset_id, "fr", "subtitles", FRENCH, "webvtt"))

    async def remove() -> None:
        async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
            for row in await captions.list_for(pool, uuid.UUID(asset_id)):
                if row.language != "fr":
                    await captions.delete(pool, row.asset_id, row.language, row.kind)

    # The edge (the local CDN) caches the master with both tracks: the purge must reach it.
    sources = [signed_sources(stack, asset_id, name) for name in ("edge", "origin")]
    for source in sources:
        before = {m.name for m in m3u8.loads(get(source["hls"])).media if m.type == "SUBTITLES"}
        assert before == {"Français", "English (CC)"}, source["name"]
    asyncio.run(remove())
    celery = create_celery(stack)
    celery.send_task(str(TaskName.PUBLISH_CAPTIONS), args=[asset_id])
    celery.close()
    deadline = time.monotonic() + 60
    for source in sources:
        while True:  # the old master is forgotten once the task's purge reaches each cache
            media = m3u8.loads(get(source["hls"])).media
            names = {m.name for m in media if m.type == "SUBTITLES"}
            if names == {"Français"}:  # in each pathway's group
                break
            assert time.monotonic() < deadline, (source["name"], names)
            time.sleep(0.5)

    async def published_keys() -> list[str]:
        prefix = keys.version_prefix(uuid.UUID(asset_id), 1) + keys.SUBTITLES_FOLDER
        async with open_storage(stack) as storage:
            return [
                i.key.removeprefix(prefix)
                async for i in storage.list(stack.s3.media_bucket, prefix)
            ]

    left = asyncio.run(published_keys())
    assert left and all(key.startswith("fr-subtitles/") for key in left)
    assert "fr-subtitles/fr-subtitles.vtt" in left


def test_a_sources_own_subtitles_are_published_after_processing(
    stack: Settings, ffmpeg: Path, tmp_path: Path
) -> None:
    source = subtitled_clip(str(ffmpeg), tmp_path / "phone.mp4")
    with admin_client(stack) as api:
        response = upload(api, source)
        assert response.status_code == 202, response.text
        ready = wait_final(api, response.json()["id"])
    assert ready["status"] == "ready", ready["error"]
    hls = signed_sources(stack, ready["id"])["hls"]
    deadline = time.monotonic() + 60
    while True:  # published by the task that follows the processing
        media = m3u8.loads(get(hls)).media
        names = {m.name for m in media if m.type == "SUBTITLES"}
        if names == {"Français", "English (CC)"}:
            break
        assert time.monotonic() < deadline, names
        time.sleep(0.5)
    stored = {(r.language, r.kind, r.origin) for r in asyncio.run(rows(stack, ready["id"]))}
    assert stored == {("fr", "subtitles", "embedded"), ("en", "captions", "embedded")}
    french = next(m for m in media if m.type == "SUBTITLES" and m.language == "fr")
    playlist_uri = urljoin(hls, french.uri)
    first = m3u8.loads(get(playlist_uri)).segments[0].uri
    assert "Bonjour le monde" in get(urljoin(playlist_uri, first))


def test_a_caption_added_through_the_gateway_is_played_from_the_origin(
    stack: Settings, asset: dict[str, Any]
) -> None:
    """As a user does it: the API (through the gateway), then the manifests a player reads."""
    asset_id = asset["id"]
    german = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nGuten Tag\n"
    with admin_client(stack) as api:
        added = api.post(
            f"/v1/assets/{asset_id}/captions",
            params={"lang": "de", "kind": "subtitles"},
            content=german,
            headers={"Content-Type": "text/vtt"},
        )
        assert added.status_code == 202, added.text
        assert added.json()["label"] == "Deutsch" and added.json()["published"] is False
        deadline = time.monotonic() + 60
        while True:
            listed = api.get(f"/v1/assets/{asset_id}/captions").json()["items"]
            german_row = next(c for c in listed if c["language"] == "de")
            if german_row["published"]:
                break
            assert time.monotonic() < deadline, listed
            time.sleep(0.5)
    hls = signed_sources(stack, asset_id)["hls"]
    deadline = time.monotonic() + 30
    while "Deutsch" not in {m.name for m in m3u8.loads(get(hls)).media}:
        assert time.monotonic() < deadline, "the origin still serves the old master"
        time.sleep(0.5)
    track = next(m for m in m3u8.loads(get(hls)).media if m.name == "Deutsch")
    playlist = urljoin(hls, track.uri)
    assert "Guten Tag" in get(urljoin(playlist, m3u8.loads(get(playlist)).segments[0].uri))
