"""Redis streams read by consumer groups (the audit log, the history's reports, the analytics
events): the group's creation and each consumer's name, the same for every reader.

redis-py has the commands but no notion of "the group exists, whoever made it first", so
this is the one place that turns Redis' BUSYGROUP answer into success.
"""

from __future__ import annotations

import os
import socket

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
