"""The queue table: settings per queue over the defaults, routing, transient failures."""

from __future__ import annotations

import errno

import asyncpg
import pytest
import redis
from pydantic import ValidationError

from cdn_adapters.base import CdnUnavailable
from streamcore.db.database import DatabaseUnavailable
from streamcore.failures import is_transient
from streamcore.settings import DEFAULT_QUEUES, Settings, WorkerSettings
from streamcore.storage import ObjectNotFound, StorageUnavailable
from streamcore.tasks.queue import create_celery
from streamcore.tasks.routes import TASK_QUEUES, QueueName, TaskName


def test_a_config_sets_some_fields_of_one_queue_and_the_rest_come_from_the_table() -> None:
    worker = WorkerSettings.model_validate({"queues": {"control": {"concurrency": 7}}})
    assert worker.queues[QueueName.CONTROL].concurrency == 7
    assert (
        worker.queues[QueueName.CONTROL].time_limit_s
        == DEFAULT_QUEUES[QueueName.CONTROL]["time_limit_s"]
    )
    assert worker.queues[QueueName.TRANSCODE].model_dump() == DEFAULT_QUEUES[QueueName.TRANSCODE]


def test_an_unknown_queue_or_key_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="unknown queue"):
        WorkerSettings.model_validate({"queues": {"thumbnails": {"concurrency": 1}}})
    with pytest.raises(ValidationError, match="concurency"):
        WorkerSettings.model_validate({"queues": {"control": {"concurency": 1}}})


def test_a_stall_threshold_shorter_than_three_heartbeats_is_refused() -> None:
    with pytest.raises(ValidationError, match="stall_after_s"):
        WorkerSettings(heartbeat_interval_s=10, stall_after_s=20)


def test_every_task_is_routed_to_its_queue(settings: Settings) -> None:
    assert set(TASK_QUEUES) == set(TaskName)
    app = create_celery(settings)
    try:
        routes = app.conf.task_routes
        assert routes[str(TaskName.PROCESS_ASSET)] == {"queue": "transcode"}
        assert routes[str(TaskName.PURGE_CDN)] == {"queue": "control"}
        # Redis redelivers only above the longest time limit: no running task is duplicated.
        longest = max(p.time_limit_s for p in settings.worker.queues.values())
        assert app.conf.broker_transport_options["visibility_timeout"] > longest
        assert str(TaskName.REAP_STALLED) in app.conf.beat_schedule
    finally:
        app.close()


@pytest.mark.parametrize(
    "exc",
    [
        StorageUnavailable("503"),
        CdnUnavailable("throttled"),
        DatabaseUnavailable("refused"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.TooManyConnectionsError("full"),
        redis.ConnectionError("down"),
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
        TimeoutError(),
    ],
)
def test_infrastructure_failures_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ObjectNotFound("gone"),
        OSError(errno.ENOSPC, "No space left on device"),
        FileNotFoundError("scratch"),
        asyncpg.InterfaceError("another operation is in progress"),
        ValueError("bad path"),
    ],
)
def test_everything_else_is_permanent(exc: BaseException) -> None:
    assert not is_transient(exc)
