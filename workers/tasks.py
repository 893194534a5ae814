"""Celery tasks: ids in, a plain function of workers/processing.py called, nothing else.

Each task runs on its queue (streamcore/tasks/routes.py) under that queue's policy
(`worker.queues` in the settings: time limit, retries, back-off). A transient failure
(streamcore/failures.py, the one definition) is retried with exponential back-off and
jitter; anything else fails now. Bad media is not an error here (the asset is marked failed
with its reason and the task succeeds). A task that still fails (retries exhausted, or a
permanent error) lands in the dead letters, and its asset is marked failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from uuid import UUID

import redis
from celery import Celery, Task

from streamcore.assets import repository
from streamcore.cache import catalog_cache
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.failures import TRANSIENT, describe, is_transient
from streamcore.settings import QueuePolicy, Settings
from streamcore.tasks import reaper_stats
from streamcore.tasks.dead_letters import DeadLetters
from streamcore.tasks.routes import TASK_QUEUES, TaskName
from transcoder.ladder import LadderConfig
from workers import captions, processing, reaper

log = logging.getLogger(__name__)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def retry_delay_s(policy: QueuePolicy, retries: int) -> float:
    """The wait before retry number `retries` + 1: doubling from retry_backoff_s, capped.

    Jittered over the upper half, so that many tasks failing together do not retry together,
    and no retry comes at once.
    """
    ceiling = min(policy.retry_backoff_max_s, policy.retry_backoff_s * 2**retries)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (spreading retries, not secrets)


def register(app: Celery, settings: Settings, ladder: LadderConfig) -> None:
    """Define the tasks on `app`, closed over the worker's settings and ladder."""

    class StreamcoreTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().__call__(*args, **kwargs)
            except Exception as exc:
                if not is_transient(exc) or self.request.retries >= (self.max_retries or 0):
                    raise  # to on_failure: the dead letters
                policy = settings.worker.queues[TASK_QUEUES[TaskName(self.name)]]
                delay = retry_delay_s(policy, self.request.retries)
                log.warning(
                    "%s %s: %s; retry %d of %d in %.1f s", self.name, list(args), describe(exc),
                    self.request.retries + 1, self.max_retries, delay,
                )  # fmt: skip
                if self.name == TaskName.PROCESS_ASSET:
                    _alive_until_retry(settings, args, delay)
                raise self.retry(exc=exc, countdown=delay) from None

        def on_failure(
            self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
        ) -> None:
            client = redis.Redis.from_url(settings.redis_dsn)
            try:
                DeadLetters(client).add(
                    task=self.name, args=list(args), error=_error_text(exc),
                    task_id=task_id, retries=self.request.retries,
                )  # fmt: skip
            finally:
                client.close()
            if self.name == TaskName.PROCESS_ASSET:
                message = f"processing failed after {self.request.retries + 1} attempt(s): "
                asyncio.run(
                    processing.record_failure(
                        settings, UUID(args[0]), UUID(args[1]), message + _error_text(exc)
                    )
                )

    def options(task: TaskName) -> dict[str, Any]:
        policy = settings.worker.queues[TASK_QUEUES[task]]
        return {
            "name": str(task),
            "bind": True,
            "base": StreamcoreTask,
            "acks_late": True,
            "max_retries": policy.max_retries,
            "time_limit": policy.time_limit_s,
            # Raised inside the task first, so that it can stop FFmpeg and clean up.
            "soft_time_limit": policy.time_limit_s - min(30, policy.time_limit_s // 10),
        }

    def assets_changed_now_and_after_replica_lag() -> None:
        # Again once replicas have surely replayed the change: a cache fill in between may
        # have read a replica still behind it.
        app.send_task(str(TaskName.ASSETS_CHANGED))
        if settings.postgres_replica_dsns:
            app.send_task(
                str(TaskName.ASSETS_CHANGED), countdown=settings.postgres.replica_max_lag_s
            )

    @app.task(**options(TaskName.PROCESS_ASSET))
    def process_asset(self: Task, asset_id: str, job_id: str, replaces_version: int = 0) -> str:
        outcome = asyncio.run(
            processing.process_asset(settings, UUID(asset_id), UUID(job_id), ladder=ladder)
        )
        if outcome != processing.Outcome.SKIPPED:
            assets_changed_now_and_after_replica_lag()
        if outcome == processing.Outcome.READY and replaces_version:
            # After the switch committed: the replaced version's files leave the CDNs' caches.
            paths = processing.replaced_paths(UUID(asset_id), replaces_version)
            app.send_task(str(TaskName.PURGE_CDN), args=[paths, f"{asset_id}:v{replaces_version}"])
        if outcome == processing.Outcome.READY:
            # A new version starts without captions: the asset's own go into it now.
            app.send_task(str(TaskName.PUBLISH_CAPTIONS), args=[asset_id])
        return outcome.value

    @app.task(**options(TaskName.PUBLISH_CAPTIONS))
    def publish_captions(self: Task, asset_id: str) -> int:
        published = asyncio.run(captions.publish_captions(settings, UUID(asset_id)))
        if published is None:
            return 0
        # After the manifests are written: the origins and CDNs forget the old ones.
        app.send_task(str(TaskName.PURGE_CDN), args=[published.paths, published.reference])
        return len(published.paths)

    @app.task(**options(TaskName.ASSETS_CHANGED))
    def assets_changed(self: Task) -> None:
        asyncio.run(catalog_cache.assets_changed(settings))

    @app.task(**options(TaskName.PURGE_CDN))
    def purge_cdn(self: Task, paths: list[str], reference: str) -> int:
        return asyncio.run(processing.purge_cdns(settings, paths, reference))

    @app.task(**options(TaskName.DELETE_ASSET_FILES))
    def delete_asset_files(self: Task, asset_id: str) -> int:
        return asyncio.run(processing.delete_asset_files(settings, UUID(asset_id)))

    @app.task(**options(TaskName.REAP_STALLED))
    def reap_stalled(self: Task) -> int:
        requeued = asyncio.run(reaper.reap_stalled(settings))
        for asset in requeued:
            # After the requeue committed; the current version plays until the new one is
            # published, then it is purged, as after a reprocess.
            app.send_task(
                str(TaskName.PROCESS_ASSET), args=[str(asset.id), str(asset.job_id), asset.version]
            )
        if requeued:
            assets_changed_now_and_after_replica_lag()
        client = redis.Redis.from_url(settings.redis_dsn)
        try:
            reaper_stats.record(client, len(requeued))
        finally:
            client.close()
        return len(requeued)


def _alive_until_retry(settings: Settings, args: tuple[Any, ...], delay_s: float) -> None:
    """A processing job waiting for its retry is not stalled: stamp its heartbeat that far ahead.

    Else the reaper would requeue it under a new job id, and its retry count would start over:
    a failure that never passes would never reach the dead letters.
    """

    async def stamp() -> None:
        async with pool_context(settings, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
            await repository.heartbeat(pool, UUID(args[0]), UUID(args[1]), ahead_s=delay_s)

    try:
        asyncio.run(stamp())
    except TRANSIENT as exc:  # the database may be what failed; the reaper then requeues it
        log.warning("asset %s: heartbeat before the retry not recorded: %s", args[0], describe(exc))
