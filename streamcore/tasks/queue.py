"""The task queue: the Celery application factory, routing each task to its queue.

It lives in streamcore/ because both sides use it: the API and the CLI enqueue tasks by name,
and the worker registers the implementations (workers/tasks.py) under the same names. The
names and the routing table are in streamcore/tasks/routes.py; the periodic jobs in
streamcore/tasks/schedule.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from celery import Celery, Task
from kombu import Queue

from streamcore.log import configure_logging
from streamcore.settings import Settings, SettingsError, load_settings
from streamcore.tasks.routes import TASK_QUEUES, QueueName, TaskName
from streamcore.tasks.schedule import beat_schedule

__all__ = ["QueueName", "TaskName", "create_celery", "worker_hostname"]


def worker_hostname(settings: Settings, queue: QueueName) -> str:
    """The node name of a queue's worker pool (`%h`: the host); health probes look for it."""
    return f"streamcore-{settings.env}-{queue}@%h"


def create_celery(settings: Settings) -> Celery:
    app = Celery("streamcore", broker=settings.redis_dsn)
    longest = max(policy.time_limit_s for policy in settings.worker.queues.values())
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
        # Redis redelivers unacknowledged tasks after this long: above the longest task, or a
        # running transcode would be handed to a second worker. A transcode whose worker died
        # is re-queued long before by the reaper (docs/architecture.md, Processes).
        broker_transport_options={"visibility_timeout": longest + 600},
        # Every task goes to its queue by name, whoever sends it (API, CLI, worker, beat).
        task_queues=[Queue(str(queue)) for queue in QueueName],
        task_routes={str(task): {"queue": str(queue)} for task, queue in TASK_QUEUES.items()},
        task_default_queue=str(QueueName.CONTROL),
        beat_schedule=beat_schedule(settings),
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    return app


def lazy_app(namespace: dict[str, Any], create: Callable[[], Celery]) -> Callable[[str], Celery]:
    """A module ``__getattr__`` that builds the module's Celery ``app`` on first use (and keeps
    it in `namespace`, the module's globals), so that importing a worker module (tests, tools)
    loads no settings: ``__getattr__ = lazy_app(globals(), _create)``."""

    def attribute(name: str) -> Celery:
        if name != "app":
            raise AttributeError(name)
        app = namespace["app"] = create()
        return app

    return attribute


def periodic_task(
    app: Celery,
    settings: Settings,
    name: TaskName,
    run: Callable[[Settings], Coroutine[Any, Any, Any]],
) -> None:
    """Register `name` on `app`: a scheduled job that runs `run(settings)` in a fresh event loop,
    within its queue's time limit, never retried (the next period does the same work)."""
    policy = settings.worker.queues[TASK_QUEUES[name]]

    @app.task(
        name=str(name), bind=True, acks_late=True, max_retries=0, shared=False,
        time_limit=policy.time_limit_s, soft_time_limit=policy.time_limit_s - 10,
    )  # fmt: skip
    def periodic(self: Task) -> Any:
        return asyncio.run(run(settings))


def service_app(service: str, register: Callable[[Celery, Settings], None]) -> Callable[[], Celery]:
    """The factory of a service's own worker app (`lazy_app`'s `create`): settings loaded and
    logging set up as the pool starts, then the service's tasks registered."""

    def create() -> Celery:
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise SystemExit(f"the {service} worker cannot start: {exc}") from None
        configure_logging(settings)
        app = create_celery(settings)
        register(app, settings)
        return app

    return create
