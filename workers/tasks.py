"""Celery tasks: ids in, a plain function of workers/processing.py called, nothing else.

Transient failures (storage, database, broker) are retried with exponential back-off and
jitter; bad media is not an error here (the asset is marked failed and the task succeeds).
A task that still fails lands in the dead letters, and its asset is marked failed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import asyncpg
import redis
from celery import Celery, Task

from cdn_adapters.base import CdnUnavailable
from streamcore.cache import catalog_cache
from streamcore.settings import Settings
from streamcore.storage import StorageUnavailable
from streamcore.tasks.dead_letters import DeadLetters
from streamcore.tasks.queue import TaskName
from transcoder.ladder import LadderConfig
from workers import processing

log = logging.getLogger(__name__)

# Worth another try: the network, a restarting database or store, a full connection pool.
TRANSIENT: tuple[type[BaseException], ...] = (
    StorageUnavailable,
    CdnUnavailable,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def register(app: Celery, settings: Settings, ladder: LadderConfig) -> None:
    """Define the tasks on `app`, closed over the worker's settings and ladder."""

    class DeadLetterTask(Task):
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

    limits: dict[str, Any] = {
        "bind": True,
        "base": DeadLetterTask,
        "acks_late": True,
        "autoretry_for": TRANSIENT,
        "retry_backoff": True,
        "retry_backoff_max": settings.worker.retry_backoff_max_s,
        "retry_jitter": True,
        "max_retries": settings.worker.max_retries,
        "time_limit": settings.worker.task_time_limit_s,
        "soft_time_limit": settings.worker.task_time_limit_s - 30,
    }

    def assets_changed_now_and_after_replica_lag() -> None:
        # Again once replicas have surely replayed the change: a cache fill in between may
        # have read a replica still behind it.
        app.send_task(str(TaskName.ASSETS_CHANGED))
        if settings.postgres_replica_dsns:
            app.send_task(
                str(TaskName.ASSETS_CHANGED), countdown=settings.postgres.replica_max_lag_s
            )

    @app.task(name=str(TaskName.PROCESS_ASSET), **limits)
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
        return outcome.value

    @app.task(name=str(TaskName.ASSETS_CHANGED), **limits)
    def assets_changed(self: Task) -> None:
        asyncio.run(catalog_cache.assets_changed(settings))

    @app.task(name=str(TaskName.PURGE_CDN), **limits)
    def purge_cdn(self: Task, paths: list[str], reference: str) -> int:
        return asyncio.run(processing.purge_cdns(settings, paths, reference))

    @app.task(name=str(TaskName.DELETE_ASSET_FILES), **limits)
    def delete_asset_files(self: Task, asset_id: str) -> int:
        return asyncio.run(processing.delete_asset_files(settings, UUID(asset_id)))
