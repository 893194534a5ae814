"""The two rate-limit algorithms, each one atomic Lua script on Redis' own clock.

Hand-written because no library in reach does both on redis-py 8 with the server's clock:
``limits`` and ``redis-rate-limiters`` time requests with each client's clock (so processes
whose clocks differ disagree about a window), ``redis-cell`` is a Redis module we cannot load
into the stack's redis-server, and none returns allowed / remaining / reset / retry-after in
one round trip. Each script reads ``TIME`` (allowed before writes since Redis 5, whose
scripts replicate their effects), so every process and every replica of a service judges by
one clock.

- **Sliding window, exact log** (`SLIDING_WINDOW`): a sorted set of the admitted requests'
  times; entries older than the window are dropped, and a request passes while fewer than
  `limit` remain. At most `limit` pass in *any* window of `period` — no error, whatever the
  alignment (Cloudflare's two-counter approximation admits up to about the limit ± the
  previous window's share; bench/ratelimit.py measures it). Memory is one entry per admitted
  request, bounded by the limit (100 a minute by default): the reason the large budgets of
  media use GCRA instead.
- **GCRA** (`GCRA`, the generic cell rate algorithm, a token bucket in one number): a key
  holds the theoretical arrival time; a request passes when it is no later than
  ``burst * emission interval`` ahead of now. O(1) memory, exact refill at ``limit/period``.

Both take the range's ban key too (streamcore/ratelimit/keys.py): while it exists, the limit
(and burst) are multiplied by its ``factor`` (automatic tightening), in the same round trip.
Keys of one call are not hashed to one slot: the stack's Redis is not a cluster.

Each returns ``[allowed (0|1), remaining, reset_ms, retry_after_ms, limit, banned (0|1)]``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from streamcore.ratelimit.config import RateRule

SLIDING_WINDOW = """
local key, ban = KEYS[1], KEYS[2]
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local banned = 0
local factor = redis.call('HGET', ban, 'factor')
if factor then
  banned = 1
  limit = math.max(1, math.floor(limit * tonumber(factor)))
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  -- The member must be unique: the microsecond in full ('%.0f': Lua's own number to string
  -- keeps 14 digits, i.e. 100 us of today's clock, and a repeated member replaced an entry
  -- instead of adding one: over-admission), then count, which grows within one microsecond.
  redis.call('ZADD', key, now, string.format('%.0f', now) .. ':' .. count)
  count = count + 1
  allowed = 1
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
end
local reset, retry = 0, 0
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = math.max(0, tonumber(oldest[2]) + window - now)
end
if allowed == 0 then
  -- the (count - limit + 1)th oldest entry leaving makes room for one more
  local freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  retry = math.max(1, tonumber(freeing[2]) + window - now)
end
return {allowed, math.max(0, limit - count), math.ceil(reset / 1000), math.ceil(retry / 1000),
        limit, banned}
"""

GCRA = """
local key, ban = KEYS[1], KEYS[2]
local limit, period, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local banned = 0
local factor = redis.call('HGET', ban, 'factor')
if factor then
  banned = 1
  limit = math.max(1, math.floor(limit * tonumber(factor)))
  burst = math.max(1, math.floor(burst * tonumber(factor)))
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = period / limit
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, 0, math.ceil((tat - now) / 1000), math.max(1, math.ceil((allow_at - now) / 1000)),
          burst, banned}
end
local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
redis.call('SET', key, string.format('%.0f', new_tat), 'PX', ttl_ms)
local remaining = math.floor((tolerance - (new_tat - now)) / interval)
return {1, math.max(0, remaining), math.ceil((new_tat - now) / 1000), 0, burst, banned}
"""


class Algorithm(enum.StrEnum):
    SLIDING_WINDOW = "sliding_window"
    GCRA = "gcra"


@dataclass(frozen=True)
class Verdict:
    """One decision: whether the request passes, and what the RateLimit fields say."""

    allowed: bool
    remaining: int
    reset_s: int
    retry_after_s: int
    limit: int
    # The range is cooling down after tripping automatic tightening (its limits reduced).
    banned: bool = False


def _verdict(reply: list[int]) -> Verdict:
    allowed, remaining, reset_ms, retry_ms, limit, banned = (int(v) for v in reply)
    return Verdict(
        allowed=bool(allowed), remaining=remaining, reset_s=math.ceil(reset_ms / 1000),
        retry_after_s=math.ceil(retry_ms / 1000) if not allowed else 0, limit=limit,
        banned=bool(banned),
    )  # fmt: skip


class RedisLimiter:
    """Runs the scripts (EVALSHA, loaded again by redis-py if Redis forgot them)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._scripts: dict[Algorithm, AsyncScript] = {
            Algorithm.SLIDING_WINDOW: redis.register_script(SLIDING_WINDOW),
            Algorithm.GCRA: redis.register_script(GCRA),
        }

    async def hit(self, rule: RateRule, key: str, ban_key: str) -> Verdict:
        """Count one request against `rule` under `key`; RedisError when Redis cannot say."""
        period_us = round(rule.period_s * 1_000_000)
        algorithm = Algorithm(rule.algorithm)
        args: list[int] = [rule.limit, period_us]
        if algorithm is Algorithm.GCRA:
            args.append(rule.capacity)
        reply = await self._scripts[algorithm](keys=[key, ban_key], args=args)
        return _verdict(reply)
