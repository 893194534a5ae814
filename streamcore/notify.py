"""Live notifications: the channels' names, and publishing a message to one (docs/notifications.md).

Every component that changes state a client watches calls `publish` (asyncio) or
`publish_sync` (Celery workers) after its commit; the notifications service
(notifications/) reads the same streams and hands the messages to the WebSockets subscribed.
Channel and stream names live here alone.

A message is an entry of the Redis stream ``notify:<channel>`` with three fields, ``kind``,
``data`` (JSON) and ``channel``, trimmed to the last ``notifications.replay_max_len`` entries so
that a client that reconnects is replayed what it missed.

Two choices, both made in the one Lua script below:

- Ids come from one sequence for every channel (``<ms>-<n>``, `n` a counter shared by all
  streams, `ms` never going back), not from each stream's own ``*``: a client resumes with ONE
  last id, and the ids of every channel then compare the way the messages were published, even
  two published in the same millisecond.
- Trimming is exact (``MAXLEN n``), not approximate (``MAXLEN ~ n``): the script records the
  newest id it trims (``notify:trimmed``), so the service tells for certain whether a client's
  last id is older than what the stream kept (and sends ``resync``). Redis 6.2, the stack's,
  has no ``max-deleted-entry-id`` in XINFO to tell it otherwise.

Publishing never breaks the caller: a Redis that fails is a logged warning and None.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamcore.settings import Settings

log = logging.getLogger(__name__)

STREAM_PREFIX = "notify:"
# Hash: stream key -> the newest id exact trimming removed from it.
TRIMMED_KEY = "notify:trimmed"
# Hash: the shared id sequence (`ms`, the last millisecond used; `seq`, the counter).
CLOCK_KEY = "notify:clock"
# How many entries a stream keeps when the caller has no settings at hand.
DEFAULT_MAX_LEN = 1000


class Topic(StrEnum):
    """The kinds of channel; a channel's name is its topic, then the id it is about."""

    PROGRESS = "progress"  # progress:{profile_id}: watch positions, the latest wins
    SUBSCRIPTION = "subscription"  # subscription:{account_id}: lifecycle transitions
    RECOMMENDATIONS = "recommendations"  # recommendations[:{profile_id}]: rows to refetch
    JOBS = "jobs"  # jobs:{account_id}: every state transition of the account's uploads
    ALERTS = "alerts"  # alerts: for admins only


def progress(profile_id: UUID) -> str:
    return f"{Topic.PROGRESS}:{profile_id}"


def subscription(account_id: UUID) -> str:
    return f"{Topic.SUBSCRIPTION}:{account_id}"


def recommendations(profile_id: UUID | None = None) -> str:
    """A profile's rows (invalidated), or, without a profile, every profile's (a batch rebuild)."""
    if profile_id is None:
        return str(Topic.RECOMMENDATIONS)
    return f"{Topic.RECOMMENDATIONS}:{profile_id}"


def jobs(account_id: UUID | None = None) -> str:
    """An account's uploads' jobs; without an account (an asset nobody owns), the admins'."""
    return str(Topic.JOBS) if account_id is None else f"{Topic.JOBS}:{account_id}"


ALERTS = str(Topic.ALERTS)


def stream_key(channel: str) -> str:
    return f"{STREAM_PREFIX}{channel}"


def channel_of(key: str | bytes) -> str:
    text = key.decode() if isinstance(key, bytes) else key
    return text.removeprefix(STREAM_PREFIX)


# KEYS: the stream, the clock, the trimmed ids. ARGV: max length, channel, kind, data.
PUBLISH_SCRIPT = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local last = tonumber(redis.call('HGET', KEYS[2], 'ms') or '0')
if ms < last then ms = last end
redis.call('HSET', KEYS[2], 'ms', ms)
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
local maxlen = tonumber(ARGV[1])
local over = redis.call('XLEN', KEYS[1]) + 1 - maxlen
if over > 0 then
  local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', over)
  redis.call('HSET', KEYS[3], KEYS[1], gone[#gone][1])
end
return redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, string.format('%d-%d', ms, seq),
                  'channel', ARGV[2], 'kind', ARGV[3], 'data', ARGV[4])
"""


def _arguments(channel: str, kind: str, data: Mapping[str, Any], max_len: int) -> list[Any]:
    # default=str: UUIDs and datetimes, the usual payloads' values, become their text.
    body = json.dumps(data, default=str, separators=(",", ":"))
    return [stream_key(channel), CLOCK_KEY, TRIMMED_KEY, max_len, channel, kind, body]


def _text(found: Any) -> str:
    return found.decode() if isinstance(found, bytes) else str(found)


async def publish(
    client: aioredis.Redis, channel: str, kind: str, data: Mapping[str, Any],
    *, max_len: int = DEFAULT_MAX_LEN,
) -> str | None:  # fmt: skip
    """Append a message to `channel`; its id, or None (logged) when Redis failed."""
    try:
        found = await client.eval(PUBLISH_SCRIPT, 3, *_arguments(channel, kind, data, max_len))
    except RedisError as exc:
        log.warning("notify: %s %s not published: %s", channel, kind, exc)
        return None
    return _text(found)


def publish_sync(
    client: redis.Redis, channel: str, kind: str, data: Mapping[str, Any],
    *, max_len: int = DEFAULT_MAX_LEN,
) -> str | None:  # fmt: skip
    """`publish` for synchronous callers (Celery tasks)."""
    try:
        found = client.eval(PUBLISH_SCRIPT, 3, *_arguments(channel, kind, data, max_len))
    except RedisError as exc:
        log.warning("notify: %s %s not published: %s", channel, kind, exc)
        return None
    return _text(found)


# A publisher handed to code that announces but does not decide how (Notifier.publish):
# publish(channel, kind, data).
Publish = Callable[[str, str, Mapping[str, Any]], Awaitable[object]]


@dataclass(frozen=True)
class Notifier:
    """`publish` bound to a client and the configured stream length, for code that is handed
    one (subscriptions' lifecycle) rather than the settings."""

    client: aioredis.Redis
    max_len: int = DEFAULT_MAX_LEN

    @classmethod
    def of(cls, settings: Settings, client: aioredis.Redis) -> Notifier:
        return cls(client, settings.notifications.replay_max_len)

    async def publish(self, channel: str, kind: str, data: Mapping[str, Any]) -> str | None:
        return await publish(self.client, channel, kind, data, max_len=self.max_len)
