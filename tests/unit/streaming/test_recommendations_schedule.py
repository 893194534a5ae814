"""The recommendations' batch job is scheduled, routed to its own queue, and consumed by the
streaming service's worker app (which registers the task under that name)."""

from __future__ import annotations

from devstack.pools import QUEUE_APPS
from streamcore.settings import Settings
from streamcore.tasks.queue import create_celery
from streamcore.tasks.routes import TASK_QUEUES, QueueName, TaskName
from streamcore.tasks.schedule import beat_schedule
from streaming import worker


def test_the_rebuild_runs_hourly_on_the_streaming_workers_queue(settings: Settings) -> None:
    task = TaskName.REBUILD_RECOMMENDATIONS
    assert TASK_QUEUES[task] is QueueName.RECOMMENDATIONS
    assert QUEUE_APPS[QueueName.RECOMMENDATIONS] == "streaming.worker"
    entry = beat_schedule(settings)[str(task)]
    assert entry["schedule"] == settings.recommendations.rebuild_every_s == 3600
    app = create_celery(settings)
    worker.register(app, settings)
    assert str(task) in app.tasks
