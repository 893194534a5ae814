"""A small published asset, put straight into the media bucket: origin and edge tests serve it;
and catalog rows for assets, for tests of what asks the catalog about them (playback)."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from typing import Any

from streamcore.assets import repository
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from streamcore.web.media_types import content_type_for
from tests import ladder_manifests

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio/aac/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aac"
video/360p/index.m3u8
"""
MEDIA = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000,
seg_00001.m4s
#EXT-X-ENDLIST
"""
MPD = """<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S">
<Period><AdaptationSet mimeType="video/mp4"><Representation id="360p" bandwidth="900000">
<SegmentTemplate initialization="video/$RepresentationID$/init.mp4"
 media="video/$RepresentationID$/seg_$Number%05d$.m4s" startNumber="1"
 timescale="1000" duration="4000"/>
</Representation></AdaptationSet></Period></MPD>
"""


# The ladder of `publish`'s files, as the catalog describes a published asset's renditions.
LADDER: list[dict[str, Any]] = [{"name": "360p", "width": 640, "height": 360}]


@dataclass
class Published:
    asset_id: uuid.UUID
    prefix: str
    segment: bytes


def publish(stack: Settings) -> Published:
    asset_id = uuid.uuid4()
    prefix = f"assets/{asset_id}/v1/"
    segment = os.urandom(300_000)
    files = {
        "master.m3u8": MASTER.encode(),
        "manifest.mpd": MPD.encode(),
        "video/360p/index.m3u8": MEDIA.encode(),
        "audio/aac/index.m3u8": MEDIA.encode(),
        "video/360p/init.mp4": b"\x00\x00\x00\x10ftypiso6" + b"\x00" * 200,
        "audio/aac/init.mp4": b"\x00\x00\x00\x10ftypiso6" + b"\x01" * 200,
        "video/360p/seg_00001.m4s": segment,
        "audio/aac/seg_00001.m4s": segment[:1000],
        "poster/poster_320.jpg": b"\xff\xd8\xff" + b"j" * 500,
        "storyboard/storyboard.vtt": (
            b"WEBVTT\n\n00:00.000 --> 00:04.000\nsprite_001.jpg#xywh=0,0,160,90\n"
        ),
        "storyboard/sprite_001.jpg": b"\xff\xd8\xff" + b"s" * 500,
    }

    async def put() -> None:
        async with open_storage(stack) as storage:
            for name, data in files.items():
                await storage.put_bytes(
                    stack.s3.media_bucket, prefix + name, data, content_type=content_type_for(name)
                )

    asyncio.run(put())
    return Published(asset_id, prefix, segment)


async def catalog_row(
    stack: Settings,
    asset_id: uuid.UUID | None = None,
    *,
    published: bool = True,
    renditions: list[dict[str, Any]] | None = None,
) -> uuid.UUID:
    """The catalog's row of an asset: uploaded only, or with version 1 published (its files,
    for `Published.asset_id`, are in the bucket already) with `renditions` (default: `LADDER`,
    `publish`'s)."""
    async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
        row = await repository.create(
            pool, asset_id=asset_id or uuid.uuid4(), title="published", source_key="k",
            source_filename="f.mp4", source_size=1, content_type="video/mp4",
        )  # fmt: skip
        if published:
            assert row.job_id is not None
            await repository.start_processing(pool, row.id, row.job_id)
            await repository.finish(
                pool,
                row.id,
                row.job_id,
                version=1,
                source_probe={},
                renditions=LADDER if renditions is None else renditions,
            )
    return row.id


@dataclass(frozen=True)
class Ladder:
    asset_id: uuid.UUID
    folder: str  # /assets/{id}/v1/
    segments: dict[str, bytes]  # rendition -> its first segment


def publish_ladder(stack: Settings) -> Ladder:
    """A published asset of three renditions (tests/ladder_manifests.py), its files in the
    stack's bucket, each rendition with a segment of its own."""
    asset_id = uuid.uuid4()
    prefix = f"assets/{asset_id}/v1/"
    segments = {r["name"]: os.urandom(50_000) for r in ladder_manifests.LADDER}
    files: dict[str, bytes] = {
        "master.m3u8": ladder_manifests.master().encode(),
        "manifest.mpd": ladder_manifests.mpd().encode(),
        "audio/aac/index.m3u8": ladder_manifests.MEDIA.encode(),
        "audio/aac/init.mp4": b"\0\0\0\x10ftypiso6",
        "audio/aac/seg_00001.m4s": os.urandom(5000),
        "poster/poster_320.jpg": b"\xff\xd8\xff" + b"j" * 100,
    }  # fmt: skip
    for name, segment in segments.items():
        files.update({
            f"video/{name}/index.m3u8": ladder_manifests.MEDIA.encode(),
            f"video/{name}/iframes.m3u8": ladder_manifests.MEDIA.encode(),
            f"video/{name}/init.mp4": b"\0\0\0\x10ftypiso6" + name.encode(),
            f"video/{name}/seg_00001.m4s": segment,
        })  # fmt: skip

    async def put() -> None:
        async with open_storage(stack) as storage:
            for name, data in files.items():
                await storage.put_bytes(
                    stack.s3.media_bucket, prefix + name, data, content_type=content_type_for(name)
                )

    asyncio.run(put())
    return Ladder(asset_id, "/" + prefix, segments)
