"""The periodic jobs, sent by the one scheduler (`celery beat`, the stack's `scheduler`).

One row per job: the task, and how often it runs (from the settings). Each message expires
after one period, so that a scheduler running while no worker consumes does not pile them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamcore.settings import Settings
from streamcore.tasks.routes import TaskName

PERIODIC: dict[TaskName, Callable[[Settings], float]] = {
    # Stalled processing jobs (their worker died) are queued again: see workers/reaper.py.
    TaskName.REAP_STALLED: lambda settings: settings.worker.reaper_interval_s,
    # Due renewals, ends of grace and suspension, period ends: see subscriptions/renewals.py.
    TaskName.SUBSCRIPTIONS_TICK: lambda settings: settings.subscriptions.tick_interval_s,
    # Neighbour lists and trending, rebuilt: see streaming/recommendations/batch.py.
    TaskName.REBUILD_RECOMMENDATIONS: lambda settings: settings.recommendations.rebuild_every_s,
}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule``: each periodic job every `period` seconds."""
    schedule: dict[str, dict[str, Any]] = {}
    for task, period in PERIODIC.items():
        seconds = period(settings)
        schedule[str(task)] = {
            "task": str(task),
            "schedule": seconds,
            "options": {"expires": seconds},
        }
    return schedule
