"""Dead letters: tasks that failed for good, kept in Redis with their payload and error.

Written by the worker when a task exhausts its retries or fails unexpectedly; listed by
`streamcore jobs dead` and re-queued by `streamcore jobs retry ID`.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import redis
from celery import Celery

_ITEMS = "streamcore:dead:items"
_ORDER = "streamcore:dead:order"


@dataclass(frozen=True)
class DeadJob:
    id: str
    task: str
    args: list[Any]
    error: str
    task_id: str
    retries: int
    failed_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeadLetters:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def add(self, *, task: str, args: list[Any], error: str, task_id: str, retries: int) -> DeadJob:
        job = DeadJob(
            id=uuid.uuid4().hex[:12],
            task=task,
            args=list(args),
            error=error[:4000],
            task_id=task_id,
            retries=retries,
            failed_at=time.time(),
        )
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(_ITEMS, job.id, json.dumps(job.to_dict()))
            pipe.zadd(_ORDER, {job.id: job.failed_at})
            pipe.execute()
        return job

    def list(self) -> list[DeadJob]:
        ids: list[str] = [
            i.decode() if isinstance(i, bytes) else str(i)
            for i in self._redis.zrange(_ORDER, 0, -1)
        ]
        if not ids:
            return []
        raw = self._redis.hmget(_ITEMS, ids)
        return [DeadJob(**json.loads(item)) for item in raw if item]

    def get(self, job_id: str) -> DeadJob | None:
        raw = self._redis.hget(_ITEMS, job_id)
        return DeadJob(**json.loads(raw)) if raw else None

    def remove(self, job_id: str) -> bool:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(_ITEMS, job_id)
            pipe.zrem(_ORDER, job_id)
            removed, _ = pipe.execute()
        return bool(removed)

    def retry(self, job_id: str, celery: Celery) -> str | None:
        """Re-queue the job with its original payload; return the new task id."""
        job = self.get(job_id)
        if job is None:
            return None
        result = celery.send_task(job.task, args=job.args)
        self.remove(job_id)
        return str(result.id)
