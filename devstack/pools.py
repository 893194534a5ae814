"""The stack's Python programs: one Celery worker pool per queue, the scheduler, the apps.

Each queue of streamcore/tasks/routes.py gets a pool of its own (``worker-transcode``,
``worker-control``, ``worker-billing``, ``worker-recommendations``), sized by
``worker.queues.<queue>.concurrency``: a pool busy with long transcodes never holds back a
CDN purge. ``worker`` is the name users know; it stands for every pool (`streamcore restart
worker`).
"""

from __future__ import annotations

import sys

from devstack.supervisor import Program
from streamcore.settings import Settings
from streamcore.tasks.queue import QueueName, worker_hostname

WORKER_GROUP = "worker"
# The Celery application each queue's pool runs: the processing workers', except the billing
# queue, which the subscriptions service's own worker consumes (it owns those tables), and the
# recommendations queue, the streaming service's (its history and neighbour lists).
QUEUE_APPS: dict[QueueName, str] = {
    QueueName.TRANSCODE: "workers.app",
    QueueName.CONTROL: "workers.app",
    QueueName.BILLING: "subscriptions.worker",
    QueueName.RECOMMENDATIONS: "streaming.worker",
}


def pool_service(queue: QueueName) -> str:
    return f"{WORKER_GROUP}-{queue}"


def python_module(
    settings: Settings, name: str, *args: str, stop_wait_s: int = 20, autorestart: bool = False
) -> Program:
    # The app processes load settings themselves; pin what the CLI resolved (the environment
    # and the absolute data folder) so that they read exactly the same settings and secrets.
    # The replica count may come from `streamcore up --replicas N`, not from the config.
    environment = {
        "STREAMCORE_ENV": settings.env,
        "STREAMCORE_STACK__DATA_DIR": str(settings.stack.data_dir),
        # Absolute too: a relative ladder path means the user's folder, not the data folder.
        "STREAMCORE_WORKER__LADDER_PATH": str(settings.worker.ladder_path),
        "STREAMCORE_STACK__POSTGRES_REPLICAS": str(settings.stack.postgres_replicas),
    }
    return Program(
        name=name,
        command=[sys.executable, "-m", *args],
        environment=environment,
        stop_wait_s=stop_wait_s,
        autorestart=autorestart,
    )


def worker_pool(settings: Settings, queue: QueueName) -> Program:
    return python_module(
        settings,
        pool_service(queue),
        "celery", "--app", QUEUE_APPS[queue], "worker",
        "--loglevel", settings.log_level,
        "--concurrency", str(settings.worker.queues[queue].concurrency),
        "--queues", str(queue),
        "--hostname", worker_hostname(settings, queue),
        "--without-gossip", "--without-mingle",
        # Warm shutdown lets a running task finish or be re-queued; a transcode that cannot
        # finish in time is killed, and the reaper re-queues it.
        stop_wait_s=60,
    )  # fmt: skip


def scheduler(settings: Settings, name: str) -> Program:
    """`celery beat`: the one sender of the periodic jobs (streamcore/tasks/schedule.py)."""
    return python_module(
        settings,
        name,
        "celery", "--app", "workers.app", "beat",
        "--loglevel", settings.log_level,
        # Its state (when each job last ran) lives with the stack's other run files.
        "--schedule", str(settings.stack.data_dir / "run" / "celerybeat-schedule"),
    )  # fmt: skip
