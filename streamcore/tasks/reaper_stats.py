"""What the stalled-job reaper did, kept in Redis: its last run and how many jobs it requeued.

Written by the reaper task (workers/tasks.py); shown by `streamcore status` on the scheduler's
row, so that a reaper that never runs, or requeues all the time, is seen.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

KEY = "streamcore:reaper"


@dataclass(frozen=True)
class ReaperStats:
    runs: int
    requeued_total: int
    last_run_at: float
    last_requeued: int

    def describe(self, now: float | None = None) -> str:
        ago = (now or time.time()) - self.last_run_at
        return (
            f"reaper last ran {ago:.0f} s ago ({self.last_requeued} requeued); "
            f"{self.requeued_total} stalled job(s) requeued in {self.runs} run(s)"
        )


def record(client: redis.Redis, requeued: int) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.hincrby(KEY, "runs", 1)
        pipe.hincrby(KEY, "requeued_total", requeued)
        pipe.hset(KEY, mapping={"last_run_at": time.time(), "last_requeued": requeued})
        pipe.execute()


def read(client: redis.Redis) -> ReaperStats | None:
    return parse(client.hgetall(KEY))


def parse(raw: Mapping[Any, Any]) -> ReaperStats | None:
    """The stats from the hash's fields (bytes or str, as the client returns them)."""
    fields = {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in raw.items()}
    if "last_run_at" not in fields:
        return None
    return ReaperStats(
        runs=int(fields["runs"]),
        requeued_total=int(fields["requeued_total"]),
        last_run_at=float(fields["last_run_at"]),
        last_requeued=int(fields["last_requeued"]),
    )
