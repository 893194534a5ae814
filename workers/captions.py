"""Publishing an asset's captions into its current version, without touching its video.

Run by the publish_captions task: after a caption is added, replaced or removed through the
API, and after every successful processing (a new version starts without captions). It reads
the asset's caption rows (streamcore/assets/captions.py), cuts each kept file into WebVTT
segments along the published video's own segments, writes the whole file for DASH, edits the
published master playlist and MPD to name exactly those tracks (packager/subtitles.py), removes
the files of tracks no longer there, and purges what changed from the origins and the CDNs.

The source's own text subtitle tracks become rows too (`keep_embedded`, `record_embedded`,
called by the processing job), published the same way; a sidecar of the same language and kind
wins over them.

Idempotent: the same rows give the same files and manifests, so a retried or repeated task
changes nothing. A version replaced while this ran is left to its replacement's own run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from packager.bmff import read_init, read_segment
from packager.captions import CaptionError, parse_captions
from packager.subtitles import (
    SubtitleTrack,
    hls_with_subtitles,
    mpd_with_text,
    segment_durations,
    write_track,
)
from streamcore.assets import captions, keys, repository
from streamcore.assets.states import AssetStatus
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage import Storage
from streamcore.storage.s3 import open_storage
from streamcore.web.media_types import content_type_for

log = logging.getLogger(__name__)

MASTER, MPD = keys.MANIFEST_FILES


@dataclass(frozen=True)
class Timeline:
    """The published video's segments: what every caption track is cut along."""

    durations_s: list[float]
    first_media_time_us: int


@dataclass(frozen=True)
class Published:
    """What changed, to purge: URL paths, and a name for that purge (the same rows and
    version give the same name, so a CDN takes a repeated purge for the one it has seen)."""

    paths: list[str]
    reference: str


async def publish_captions(settings: Settings, asset_id: UUID) -> Published | None:
    """Publish the asset's caption rows into its current version; None when there is none."""
    async with pool_context(settings, schema=Schema.CATALOG, min_size=1, max_size=2) as pool:
        asset = await repository.get(pool, asset_id)
        if asset is None or asset.status != AssetStatus.READY or asset.version < 1:
            # Not published yet (its processing run ends with this task) or gone.
            log.info("asset %s: no published version to add captions to", asset_id)
            return None
        rows = await captions.list_for(pool, asset_id)
        async with open_storage(settings) as storage:
            with tempfile.TemporaryDirectory(prefix=f"captions-{asset_id}-") as scratch:
                changed = await _publish(settings, storage, asset, rows, Path(scratch))
            current = await repository.get(pool, asset_id)
            if current is None or current.version != asset.version:
                # Replaced (or deleted) meanwhile: what was written here belongs to nobody.
                await storage.delete_prefix(
                    settings.s3.media_bucket, keys.version_prefix(asset_id, asset.version)
                )
                return None
        revisions: dict[tuple[str, str], int] = {
            (row.language, row.kind): row.revision for row in rows
        }
        await captions.mark_published(pool, asset_id, revisions, asset.version)
    log.info("asset %s v%d: %d caption tracks published", asset_id, asset.version, len(rows))
    state = ",".join(f"{lang}-{kind}:{rev}" for (lang, kind), rev in sorted(revisions.items()))
    digest = hashlib.sha256(state.encode()).hexdigest()[:16]
    return Published(changed, f"{asset_id}:v{asset.version}:captions:{digest}")


async def _publish(
    settings: Settings,
    storage: Storage,
    asset: repository.Asset,
    rows: list[captions.Caption],
    scratch: Path,
) -> list[str]:
    bucket, version = settings.s3.media_bucket, asset.version

    def key(relative: str) -> str:
        return keys.output_key(asset.id, version, relative)

    timeline = await _timeline(storage, bucket, asset, scratch)
    tracks = []
    for row in rows:
        track = await _write(settings, storage, row, timeline, scratch)
        if track is not None:
            tracks.append(track)
    for path in sorted(scratch.joinpath(keys.SUBTITLES_FOLDER).rglob("*")):
        if path.is_file():
            relative = path.relative_to(scratch).as_posix()
            await storage.put_file(
                bucket, key(relative), path, content_type=content_type_for(relative)
            )
    await _remove_stale(storage, bucket, asset, {track.name for track in tracks})
    master, _ = await storage.get_bytes(bucket, key(MASTER))
    mpd, _ = await storage.get_bytes(bucket, key(MPD))
    # The manifests last: a player reading them finds every file they name.
    for name, text in (
        (MASTER, hls_with_subtitles(master.decode(), tracks)),
        (MPD, mpd_with_text(mpd.decode(), tracks)),
    ):
        await storage.put_bytes(
            bucket, key(name), text.encode(), content_type=content_type_for(name)
        )
    subtitles = keys.version_prefix(asset.id, version) + keys.SUBTITLES_FOLDER
    return ["/" + key(MASTER), "/" + key(MPD), "/" + subtitles]


async def _timeline(
    storage: Storage, bucket: str, asset: repository.Asset, scratch: Path
) -> Timeline:
    """The first rendition's segment durations, and when its first frame is on the media
    timeline (every track of the ladder shares both)."""
    folder = keys.rendition_folder(asset.renditions[0]["name"])

    async def fetch(name: str) -> bytes:
        data, _ = await storage.get_bytes(
            bucket, keys.output_key(asset.id, asset.version, folder + name)
        )
        return data

    playlist = (await fetch("index.m3u8")).decode()
    init, first = scratch / "init.mp4", scratch / "first.m4s"
    init.write_bytes(await fetch("init.mp4"))
    first.write_bytes(await fetch("seg_00001.m4s"))
    info = read_init(init)
    start = read_segment(first, info).presentation_start
    init.unlink()
    first.unlink()
    return Timeline(segment_durations(playlist), round(start * 1_000_000 / info.timescale))


async def _write(
    settings: Settings,
    storage: Storage,
    row: captions.Caption,
    timeline: Timeline,
    scratch: Path,
) -> SubtitleTrack | None:
    """One track's files in `scratch`; None (logged) when its kept file no longer parses."""
    name = keys.caption_name(row.language, row.kind)
    data, _ = await storage.get_bytes(settings.s3.uploads_bucket, row.source_key)
    folder = scratch / keys.SUBTITLES_FOLDER / name
    whole = folder / f"{name}.vtt"
    try:
        document = await asyncio.to_thread(parse_captions, data, filename=row.source_key)
    except CaptionError as exc:  # checked at upload: only a file changed behind our back
        log.error("asset %s: caption %s left out: %s", row.asset_id, name, exc)
        return None
    await asyncio.to_thread(
        write_track, document, timeline.durations_s, timeline.first_media_time_us, folder, whole
    )
    return SubtitleTrack(
        name=name,
        language=row.language,
        label=row.label,
        kind=row.kind,
        playlist_uri=f"{keys.SUBTITLES_FOLDER}{name}/index.m3u8",
        file_uri=f"{keys.SUBTITLES_FOLDER}{name}/{name}.vtt",
    )


async def _remove_stale(
    storage: Storage, bucket: str, asset: repository.Asset, names: set[str]
) -> None:
    """The published files of tracks no longer among the asset's captions."""
    prefix = keys.version_prefix(asset.id, asset.version) + keys.SUBTITLES_FOLDER
    published = {
        info.key.removeprefix(prefix).split("/", 1)[0]
        async for info in storage.list(bucket, prefix)
    }
    for name in sorted(published - names):
        await storage.delete_prefix(bucket, f"{prefix}{name}/")


async def keep_embedded(
    settings: Settings, storage: Storage, asset_id: UUID, extracted: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The source's own subtitle tracks (workers.media.BuildResult.captions), kept in the
    uploads bucket beside the source as sidecar files are, with what their rows need."""
    kept = []
    for caption in extracted:
        path = Path(caption["path"])
        try:
            data = await asyncio.to_thread(path.read_bytes)
            document = await asyncio.to_thread(parse_captions, data)
        except CaptionError as exc:  # FFmpeg's own WebVTT: not expected, but not fatal
            log.warning("asset %s: embedded %s left out: %s", asset_id, path.name, exc)
            continue
        key = keys.caption_source_key(asset_id, caption["language"], caption["kind"], "webvtt")
        await storage.put_file(settings.s3.uploads_bucket, key, path, content_type="text/vtt")
        kept.append({**caption, "source_key": key, "cue_count": len(document.cues)})
    return kept


async def record_embedded(
    pool: asyncpg.Pool, asset_id: UUID, embedded: list[dict[str, Any]]
) -> None:
    """Rows for the embedded tracks; a sidecar of the same language and kind wins."""
    sidecars = {
        (row.language, row.kind)
        for row in await captions.list_for(pool, asset_id)
        if row.origin == "sidecar"
    }
    for caption in embedded:
        if (caption["language"], caption["kind"]) in sidecars:
            continue
        await captions.upsert(
            pool, asset_id=asset_id, language=caption["language"], kind=caption["kind"],
            label=caption["label"], origin="embedded", file_format="webvtt",
            source_key=caption["source_key"], cue_count=caption["cue_count"],
        )  # fmt: skip
