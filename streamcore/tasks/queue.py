"""The task queue: the Celery application factory and the names of every task.

It lives in streamcore/ because both sides use it: the API and the CLI enqueue tasks by name,
and the worker registers the implementations (workers/tasks.py) under the same names.
"""

from __future__ import annotations

import enum

from celery import Celery

from streamcore.settings import Settings


class TaskName(enum.StrEnum):
    PROCESS_ASSET = "streamcore.process_asset"
    DELETE_ASSET_FILES = "streamcore.delete_asset_files"
    PURGE_CDN = "streamcore.purge_cdn"
    ASSETS_CHANGED = "streamcore.assets_changed"


def create_celery(settings: Settings) -> Celery:
    app = Celery("streamcore", broker=settings.redis_dsn)
    app.conf.update(
        # A task is acknowledged only when it finishes: a worker killed mid-task hands it back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per process: transcodes are long and CPU-bound.
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        # Results are in PostgreSQL (the asset row), not in a result backend.
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # Redis redelivers unacknowledged tasks after this long; above the longest task.
        broker_transport_options={"visibility_timeout": settings.worker.task_time_limit_s + 600},
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    return app
