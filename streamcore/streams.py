"""Redis streams read by consumer groups (the audit log, the history's reports, the analytics
events): the group's creation and each consumer's name, the same for every reader.

redis-py has the commands but no notion of "the group exists, whoever made it first", so
this is the one place that turns Redis' BUSYGROUP answer into success.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError


def consumer_name() -> str:
    """This process's name in a group: unique per host and process, stable while it runs."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def ensure_group(client: aioredis.Redis, stream: str, group: str) -> None:
    """`group` on `stream` (created empty if missing), reading from the stream's start, so
    entries added before the first consumer ran count; a group that exists is left as it is."""
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


# An entry as redis-py answers it: (id, fields), bytes or str by the client's decoding.
RawEntry = tuple[Any, dict[Any, Any]]


def _entries(answer: Any) -> list[RawEntry]:
    return [entry for _, entries in answer or [] for entry in entries]


async def take(
    client: aioredis.Redis, stream: str, group: str, consumer: str, count: int,
    *, claim_after_s: float, block_ms: int | None = None,
) -> list[RawEntry]:  # fmt: skip
    """Up to `count` entries for `consumer`: its own unacknowledged ones first (a batch it
    failed to finish), then others' idle for `claim_after_s` (their consumer died: XAUTOCLAIM),
    then new ones (waiting up to `block_ms` for some, if given)."""
    taken = _entries(await client.xreadgroup(group, consumer, {stream: "0"}, count=count))
    if len(taken) < count:
        claimed: Any = await client.xautoclaim(
            stream, group, consumer, min_idle_time=int(claim_after_s * 1000),
            start_id="0-0", count=count - len(taken),
        )  # fmt: skip
        taken.extend(claimed[1])
    if len(taken) < count:
        fresh = await client.xreadgroup(
            group, consumer, {stream: ">"}, count=count - len(taken), block=block_ms
        )
        taken.extend(_entries(fresh))
    return taken
