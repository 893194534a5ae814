"""One OS process of the exactness tests: `clients` asyncio clients hit one key through
``RedisLimiter`` as fast as they can, from `start_at` (epoch seconds, so that every process
begins together) for `seconds`.

The job comes as JSON on stdin (the DSN carries the Redis password: not in argv); the result
goes to stdout as JSON. The times it reports are Redis' own (``TIME``, in microseconds), the
clock the scripts judge by:

- ``started_us``: read before the first request;
- ``first_reply_us``: read after the first request's answer (the key's first admission, by
  any process, happened before it);
- ``ended_us``: read at the deadline. Demand never lapsed between ``started_us`` and it, and
  none of the limiter's capacity by then is left unused: each client stops only at its first
  refusal sent after it (a refusal means nothing was free when it was judged);
- ``drained_us``: read once every answer is in (no request of this process is judged later).

A call that fails counts in ``errors``: whether it was admitted is unknown, so the client has
no retries (a retried script could be admitted twice and counted once).

    echo '{"dsn": ..., "key": ..., "rule": {...}, ...}' \\
        | python -m tests.integration.ratelimit.hammer
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import redis.asyncio as aioredis

from streamcore.ratelimit.algorithms import RedisLimiter
from streamcore.ratelimit.config import RateRule


async def _server_us(redis: aioredis.Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1_000_000 + int(micros)


async def run(job: dict[str, Any]) -> dict[str, int]:
    rule = RateRule.model_validate(job["rule"])
    key, ban_key = job["key"], job["ban_key"]
    redis = aioredis.Redis.from_url(job["dsn"], socket_timeout=10, retry_on_timeout=False)
    limiter = RedisLimiter(redis)
    counts = {"admitted": 0, "refused": 0, "errors": 0}
    stop = asyncio.Event()

    async def hit() -> bool | None:
        try:
            verdict = await limiter.hit(rule, key, ban_key)
        except Exception:  # unknown outcome: counted, and the test fails on it
            counts["errors"] += 1
            return None
        counts["admitted" if verdict.allowed else "refused"] += 1
        return verdict.allowed

    async def client() -> None:
        while True:
            late = stop.is_set()  # this request reaches Redis after `ended`
            if await hit() is not True and late:
                return

    try:
        # Every client's connection open (and the script loaded) before the start.
        await asyncio.gather(*(_server_us(redis) for _ in range(job["clients"])))
        await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
        started = await _server_us(redis)
        await hit()
        first_reply = await _server_us(redis)
        clients = [asyncio.ensure_future(client()) for _ in range(job["clients"])]
        await asyncio.sleep(max(0.0, job["start_at"] + job["seconds"] - time.time()))
        ended = await _server_us(redis)
        stop.set()
        await asyncio.gather(*clients)
        drained = await _server_us(redis)
    finally:
        await redis.aclose()
    return {**counts, "started_us": started, "first_reply_us": first_reply, "ended_us": ended,
            "drained_us": drained}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.stdin.read())))))
