"""What a reconnecting socket missed: every message after its last id, from each channel.

The client reconnects with ``&last_id=<id>`` (the id of the last message it received, on any
channel). Each of its channels' streams is read after that id, the messages merged in id
order (one sequence for every channel: streamcore/notify.py), and, progress being "latest
wins", only the newest progress message per asset is kept. If exact trimming has removed
from one of its streams a message newer than `last_id` (``notify:trimmed``), the client has
lost something it cannot be replayed: it is told to resync (refetch its state over HTTP)
first, then sent what the streams still hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from notifications.messages import Message, order_of, text_of
from streamcore import notify


@dataclass(frozen=True)
class Replay:
    resync: bool
    messages: list[Message]


async def _trimmed_past(client: aioredis.Redis, keys: list[str], last_id: str) -> bool:
    trimmed: list[bytes | str | None] = await client.hmget(notify.TRIMMED_KEY, keys)
    after = order_of(last_id)
    return any(found is not None and order_of(text_of(found)) > after for found in trimmed)


def latest_progress(messages: list[Message]) -> list[Message]:
    """`messages` with, for each progress channel and asset, only the newest one."""
    newest: dict[tuple[str, str], str] = {}
    for message in messages:
        if message.channel.startswith(f"{notify.Topic.PROGRESS}:") and isinstance(
            message.data, dict
        ):
            newest[(message.channel, str(message.data.get("asset_id")))] = message.id
    return [
        m for m in messages
        if not (m.channel.startswith(f"{notify.Topic.PROGRESS}:") and isinstance(m.data, dict))
        or newest[(m.channel, str(m.data.get("asset_id")))] == m.id
    ]  # fmt: skip


async def missed(client: aioredis.Redis, channels: tuple[str, ...], last_id: str) -> Replay:
    """What came after `last_id` on `channels` (see the module's docstring)."""
    keys = [notify.stream_key(channel) for channel in channels]
    resync = await _trimmed_past(client, keys, last_id)
    found: list[Message] = []
    for key in keys:
        entries: Any = await client.xrange(key, min=f"({last_id}", max="+")
        for entry_id, fields in entries:
            found.append(Message.of_entry(key, entry_id, fields))
    found.sort(key=lambda message: message.order)
    return Replay(resync, latest_progress(found))
