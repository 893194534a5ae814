"""Processing an asset, as plain async functions: tested without Celery, called by its tasks.

Idempotent by construction: the job id guards every state change, outputs go to deterministic
keys under ``assets/{id}/v{n}/`` (a retry overwrites the same keys), the switch to a new
version is one UPDATE, and older versions are deleted only after that switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from cdn_adapters.registry import build_adapters
from streamcore import binaries, origin_purges
from streamcore.assets import keys, repository
from streamcore.assets.notices import JobNotices, job_notices
from streamcore.assets.states import AssetStatus
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.failures import TRANSIENT, describe
from streamcore.settings import Settings
from streamcore.storage import Storage
from streamcore.storage.s3 import open_storage
from streamcore.web.media_types import content_type_for
from transcoder.ladder import LadderConfig, LadderError, load_ladder
from workers import captions as captions_worker
from workers.media import (
    OUTPUT_DIR,
    BuildResult,
    PermanentMediaError,
    TranscodeError,
    build_outputs,
)
from workers.segment_uploads import SegmentUploads

log = logging.getLogger(__name__)

# Share of the progress bar: download 0-5, build 5-90, publish 90-99, ready 100.
_BUILD_START, _BUILD_SPAN, _PUBLISH_START = 5, 85, 90
_PROGRESS_EVERY_S = 1.0
# Each task opens its own pool: keep it small, so that worker.concurrency tasks stay far
# below the server's max_connections (the API's pools take most of it).
_POOL_MIN_SIZE, _POOL_MAX_SIZE = 1, 4


class Outcome(enum.StrEnum):
    READY = "ready"
    FAILED = "failed"
    SKIPPED = "skipped"  # gone, superseded by another job, or already done


def published_images(files: list[str]) -> dict[str, Any]:
    """The posters and the storyboard among the published files, for playback responses."""
    posters = sorted(f for f in files if f.startswith("poster/"))
    storyboard = next((f for f in files if f.endswith("storyboard.vtt")), None)
    return {"posters": posters, "storyboard": storyboard}


def replaced_paths(asset_id: UUID, old_version: int) -> list[str]:
    """CDN paths to purge once `old_version` is no longer the published one."""
    return ["/" + keys.version_prefix(asset_id, old_version)] if old_version >= 1 else []


def worker_ladder(settings: Settings) -> LadderConfig:
    """The ladder at ``worker.ladder_path``; `LadderError` names the setting and the bad key."""
    try:
        return load_ladder(settings.worker.ladder_path)
    except LadderError as exc:
        raise LadderError(f"worker.ladder_path: {exc}") from None


async def process_asset(
    settings: Settings, asset_id: UUID, job_id: UUID, *, ladder: LadderConfig | None = None
) -> Outcome:
    """Process one job of an asset. A worker passes the ladder it loaded at start; other
    callers (tools, tests) get the one at ``worker.ladder_path``."""
    if ladder is None:
        ladder = worker_ladder(settings)
    async with (
        pool_context(
            settings, schema=Schema.CATALOG, min_size=_POOL_MIN_SIZE, max_size=_POOL_MAX_SIZE
        ) as pool,
        open_storage(settings) as storage,
        job_notices(settings) as notices,
    ):
        before = await repository.get(pool, asset_id)  # only for the notice: where it was
        asset = await repository.start_processing(pool, asset_id, job_id)
        if asset is None:
            # Also the redelivered message of a job the reaper replaced: its job id is stale.
            log.info("asset %s job %s: nothing to do (gone, done or superseded)", asset_id, job_id)
            return Outcome.SKIPPED
        await notices.moved(asset, before.status if before else None)
        async with _heartbeats(settings, pool, asset_id, job_id):
            return await _run(settings, ladder, pool, storage, asset, job_id, notices)


async def _run(
    settings: Settings,
    ladder: LadderConfig,
    pool: asyncpg.Pool,
    storage: Storage,
    asset: repository.Asset,
    job_id: UUID,
    notices: JobNotices,
) -> Outcome:
    asset_id, version = asset.id, asset.version + 1
    _remove_stale_scratch(settings.scratch_dir, asset_id)
    with tempfile.TemporaryDirectory(prefix=f"{asset_id}-", dir=settings.scratch_dir) as tmp:
        work = Path(tmp)
        source = work / ("source" + Path(asset.source_key).suffix)
        await storage.download_file(settings.s3.uploads_bucket, asset.source_key, source)
        # An interrupted attempt may have uploaded part of this version: start from nothing,
        # so the version ends holding exactly this attempt's files (never published yet).
        await _remove_unpublished(settings, storage, asset_id, version)
        out = work / OUTPUT_DIR
        put = _uploader(settings, storage, asset_id, version, out)
        try:
            async with SegmentUploads(
                put, out, concurrency=settings.worker.upload_concurrency
            ) as uploads:
                result = await _build(settings, ladder, pool, asset, job_id, source, work)
                await repository.set_progress(pool, asset_id, job_id, _PUBLISH_START)
                await uploads.finish(result.files)
                embedded = await captions_worker.keep_embedded(
                    settings, storage, asset_id, result.captions
                )
        except (PermanentMediaError, TranscodeError) as exc:
            # Permanent (streamcore/failures.py): the same source fails the same way again.
            log.info("asset %s failed: %s", asset_id, exc.message)
            failed = await repository.fail(pool, asset_id, job_id, _reason(exc))
            if failed is not None:  # still ours: what this attempt uploaded goes too
                await _remove_unpublished(settings, storage, asset_id, version)
            await notices.moved(failed, AssetStatus.PROCESSING)
            return Outcome.FAILED
        log.info(
            "asset %s: %d of %d files uploaded while FFmpeg was encoding",
            asset_id, uploads.early, len(result.files),
        )  # fmt: skip
    done = await repository.finish(
        pool, asset_id, job_id, version=version,
        # The scratch path the probe saw means nothing outside this task.
        source_probe={k: v for k, v in result.source.items() if k != "path"},
        renditions=result.renditions,
        images=published_images(result.files),
        audio=result.audio,
    )  # fmt: skip
    await notices.moved(done, AssetStatus.PROCESSING)
    if done is not None:
        # Published into the version by the publish_captions task that follows a READY.
        await captions_worker.record_embedded(pool, asset_id, embedded)
    if done is None:
        if await repository.get(pool, asset_id) is None:
            # Deleted while we worked: what we uploaded belongs to nobody.
            await storage.delete_prefix(
                settings.s3.media_bucket, keys.version_prefix(asset_id, version)
            )
        # Else superseded (reprocessed, or requeued by the reaper): the job that replaced us
        # writes the same keys of the same version, and may be publishing them right now.
        return Outcome.SKIPPED
    await remove_other_versions(settings, storage, asset_id, keep=version)
    log.info("asset %s ready as version %d", asset_id, version)
    return Outcome.READY


def _reason(exc: PermanentMediaError | TranscodeError) -> str:
    if isinstance(exc, TranscodeError) and exc.stderr_tail:
        # FFmpeg's own last words say why; the last lines are the ones that matter.
        return f"{exc.message}: " + " | ".join(exc.stderr_tail.splitlines()[-5:])
    return exc.message


@asynccontextmanager
async def _heartbeats(
    settings: Settings, pool: asyncpg.Pool, asset_id: UUID, job_id: UUID
) -> AsyncIterator[None]:
    """Stamp the job's heartbeat every worker.heartbeat_interval_s while the block runs.

    From this loop, not from the work: downloads, FFmpeg (in a thread) and uploads all leave
    it free, so the beats stop only when the process does (the reaper's signal) or the job ends.
    """

    async def beat() -> None:
        while True:
            await asyncio.sleep(settings.worker.heartbeat_interval_s)
            try:
                await repository.heartbeat(pool, asset_id, job_id)
            except TRANSIENT as exc:  # the next beat may get through; the job goes on
                log.warning("asset %s: heartbeat not recorded: %s", asset_id, describe(exc))

    task = asyncio.create_task(beat(), name=f"heartbeat-{asset_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def purge_cdns(settings: Settings, paths: list[str], reference: str) -> int:
    """Purge paths from the origins' caches and every configured CDN. Idempotent: `reference`
    names the purge."""
    await origin_purges.publish(settings, paths)
    adapters = build_adapters(settings)
    for adapter in adapters:
        result = await adapter.purge(paths, reference=reference)
        log.info("purge %s on %s: %s", result.purge_id, adapter.name, result.state)
    return len(adapters)


def _remove_stale_scratch(scratch: Path, asset_id: UUID) -> None:
    """A killed worker cannot clean up after itself; the next attempt does it for it."""
    scratch.mkdir(parents=True, exist_ok=True)
    for stale in scratch.glob(f"{asset_id}-*"):
        log.warning(
            "asset %s: removing scratch left by an interrupted attempt: %s", asset_id, stale
        )
        shutil.rmtree(stale, ignore_errors=True)


async def _build(
    settings: Settings,
    ladder: LadderConfig,
    pool: asyncpg.Pool,
    asset: repository.Asset,
    job_id: UUID,
    source: Path,
    work: Path,
) -> BuildResult:
    await repository.set_progress(pool, asset.id, job_id, _BUILD_START)
    report = _progress_reporter(pool, asset.id, job_id, asyncio.get_running_loop())
    ffmpeg = binaries.find_ffmpeg(settings.ffmpeg.path).path
    # FFmpeg and Pillow block: they run in a thread, while this loop keeps reporting progress.
    return await asyncio.to_thread(
        build_outputs, source, work, ladder=ladder, ffmpeg=ffmpeg,
        on_progress=report, timeout_s=settings.worker.ffmpeg_timeout_s,
        audio_languages=asset.audio_languages,
    )  # fmt: skip


def _progress_reporter(
    pool: asyncpg.Pool, asset_id: UUID, job_id: UUID, loop: asyncio.AbstractEventLoop
) -> Callable[[float], None]:
    last = 0.0

    def report(fraction: float) -> None:  # called from the build thread
        nonlocal last
        now = time.monotonic()
        if now - last < _PROGRESS_EVERY_S and fraction < 1.0:
            return
        last = now
        percent = _BUILD_START + round(_BUILD_SPAN * max(0.0, min(fraction, 1.0)))
        asyncio.run_coroutine_threadsafe(
            repository.set_progress(pool, asset_id, job_id, percent), loop
        )

    return report


def _uploader(
    settings: Settings, storage: Storage, asset_id: UUID, version: int, output_dir: Path
) -> Callable[[str], Awaitable[None]]:
    """Upload one output file (named relative to `output_dir`) under the version's prefix."""

    async def put(relative: str) -> None:
        await storage.put_file(
            settings.s3.media_bucket,
            keys.output_key(asset_id, version, relative),
            output_dir / relative,
            content_type=content_type_for(relative),
        )

    return put


async def _remove_unpublished(
    settings: Settings, storage: Storage, asset_id: UUID, version: int
) -> None:
    removed = await storage.delete_prefix(
        settings.s3.media_bucket, keys.version_prefix(asset_id, version)
    )
    if removed:
        log.warning(
            "asset %s: removed %d unpublished files of version %d", asset_id, removed, version
        )


async def remove_other_versions(
    settings: Settings, storage: Storage, asset_id: UUID, *, keep: int | None
) -> int:
    """Delete every version folder of the asset but `keep` (all of them when None)."""
    versions = {
        version
        async for info in storage.list(settings.s3.media_bucket, keys.asset_prefix(asset_id))
        if (version := keys.version_of(asset_id, info.key)) is not None and version != keep
    }
    for version in sorted(versions):
        await storage.delete_prefix(
            settings.s3.media_bucket, keys.version_prefix(asset_id, version)
        )
    return len(versions)


async def delete_asset_files(settings: Settings, asset_id: UUID) -> int:
    """Remove the source and every published version of a deleted asset. Safe to repeat."""
    async with open_storage(settings) as storage:
        removed = await storage.delete_prefix(
            settings.s3.uploads_bucket, keys.upload_prefix(asset_id)
        )
        removed += await remove_other_versions(settings, storage, asset_id, keep=None)
    # After the files are gone, every time (a retry finds nothing left to delete): an origin
    # that fills its cache between the CDN purge and the deletion still forgets the asset.
    await origin_purges.publish(settings, ["/" + keys.asset_prefix(asset_id)])
    return removed


async def record_failure(settings: Settings, asset_id: UUID, job_id: UUID, error: str) -> None:
    """Mark the asset failed after its task gave up (retries exhausted or an unexpected error)."""
    async with (
        pool_context(
            settings, schema=Schema.CATALOG, min_size=_POOL_MIN_SIZE, max_size=_POOL_MAX_SIZE
        ) as pool,
        job_notices(settings) as notices,
    ):
        before = await repository.get(pool, asset_id)
        failed = await repository.fail(pool, asset_id, job_id, error)
        await notices.moved(failed, before.status if before else None)
