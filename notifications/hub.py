"""Fan-out: one reader task per instance hands every stream entry to the sockets subscribed.

Why one reader per instance rather than one per socket: a blocking XREAD holds a Redis
connection for as long as it waits, so per-socket readers would cost a connection per client
(thousands per instance) and as many idle wake-ups; one reader costs one connection whatever
the number of sockets, and each message is read once per instance, then copied to its sockets'
queues in memory. Every instance runs its own reader over the same streams, so a message
published once reaches the clients of every instance.

The reader keeps a cursor per stream that some socket of this instance subscribes to. A
stream joins with the id of its newest entry at that moment (its cursor), so nothing published
after the join is missed; the socket's own replay (notifications/replay.py) covers what came
before, and a socket drops what it has already been sent (by id). A stream no socket wants
any more is dropped. A new stream is read from the next XREAD, at most `BLOCK_MS` later.

A socket's queue is bounded: a client that does not keep up is closed (1013, try again later)
rather than letting the instance's memory grow; it reconnects with its last id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from notifications.messages import Message, order_of, text_of
from streamcore import notify

log = logging.getLogger(__name__)

# A short block: the set of streams read changes only between two reads.
BLOCK_MS = 500
BATCH = 500
# After a failed read: wait this long, so that a Redis that is down is not hammered.
RETRY_S = 1.0


class Subscriber:
    """One socket's end: its channels, its queue and whether it fell behind."""

    def __init__(self, channels: list[str], limit: int) -> None:
        self.channels = tuple(channels)
        self.queue: asyncio.Queue[Message] = asyncio.Queue(limit)
        self.overflowed = asyncio.Event()

    def offer(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class Hub:
    """The instance's reader (`run`, a task of the app) and the sockets it feeds."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._cursors: dict[str, str] = {}  # stream key -> the last id read
        self._members: dict[str, set[Subscriber]] = {}  # channel -> its sockets
        self._wake = asyncio.Event()
        self._stopping = False

    async def join(self, member: Subscriber) -> None:
        for channel in member.channels:
            self._members.setdefault(channel, set()).add(member)
            key = notify.stream_key(channel)
            if key not in self._cursors:
                newest: Any = await self._client.xrevrange(key, count=1)
                # setdefault: a stream that another join (or the reader) set meanwhile keeps
                # its cursor, which is not ahead of anything this member will be sent.
                self._cursors.setdefault(key, text_of(newest[0][0]) if newest else "0-0")
        self._wake.set()

    def leave(self, member: Subscriber) -> None:
        for channel in member.channels:
            members = self._members.get(channel)
            if members is None:
                continue
            members.discard(member)
            if not members:
                del self._members[channel]
                self._cursors.pop(notify.stream_key(channel), None)

    def stop(self) -> None:
        """Make run() return after its current read (at most BLOCK_MS): the task is not
        cancelled, since one cancelled inside redis-py's blocking XREAD was seen never to end
        (origin/purge_feed.py says the same)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Read and dispatch until stopped; a failing Redis is retried, never fatal."""
        while not self._stopping:
            if not self._cursors:
                self._wake.clear()
                await self._wake.wait()
                continue
            streams: dict[Any, Any] = dict(self._cursors)
            try:
                found: Any = await self._client.xread(streams, count=BATCH, block=BLOCK_MS)
            except RedisError as exc:
                log.warning("notifications: reading the streams failed: %s", exc)
                if not self._stopping:
                    await asyncio.sleep(RETRY_S)
                continue
            for key, entries in found or []:
                self._dispatch(text_of(key), entries)

    def _dispatch(self, key: str, entries: list[Any]) -> None:
        for entry_id, fields in entries:
            cursor = self._cursors.get(key)
            if cursor is None:
                return  # dropped while this read was on its way: no socket wants it
            if order_of(text_of(entry_id)) <= order_of(cursor):
                continue  # the stream re-joined meanwhile from a newer id: older than its join
            self._cursors[key] = text_of(entry_id)  # past it, even if it cannot be read
            try:
                message = Message.of_entry(key, entry_id, fields)
            except ValueError:
                # One malformed entry (not JSON) must not stop the instance's only reader.
                log.exception("notifications: %s %s could not be read", key, entry_id)
                continue
            for member in list(self._members.get(message.channel, ())):
                member.offer(message)
