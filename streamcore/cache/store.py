"""The cache's Redis operations, each one round trip (Lua where it must be atomic).

Nothing here catches errors: the cache decides what a failure means (a skipped tier and a
breaker count). Scripts run by EVALSHA, falling back to EVAL once per connection
(redis-py's ``Script``); they touch only the keys passed to them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from streamcore.cache import keys
from streamcore.cache.envelope import FIELDS, Envelope

# The entry's fields, then each namespace's generation; a missing generation is created
# (with a new token) so that no entry is ever stamped "no generation": an expired generation
# key then turns its entries into misses instead of making old ones current again.
_READ = """
local out = redis.call('HMGET', KEYS[1], 'v', 'c', 'f', 'g')
for i = 2, #KEYS do
  local gen = redis.call('GET', KEYS[i])
  if not gen then
    gen = ARGV[1]
    redis.call('SET', KEYS[i], gen, 'PX', ARGV[2])
  end
  out[#out + 1] = gen
end
return out
"""

# Write the entry (all fields, new TTL), then release the rebuild lock if we still hold it.
_WRITE_AND_UNLOCK = """
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'c', ARGV[4], 'f', ARGV[5], 'g', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[2])
end
return 1
"""

# Compare-and-delete: a lock that expired and was taken by another process stays theirs.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# End entries' freshness now (ARGV[1], Unix seconds), keeping them, and their TTL, as
# last-known values; an entry already past its freshness is left as it is.
_EXPIRE_FRESH = """
for i = 1, #KEYS do
  local fresh_until = tonumber(redis.call('HGET', KEYS[i], 'f'))
  if fresh_until and fresh_until > tonumber(ARGV[1]) then
    redis.call('HSET', KEYS[i], 'f', ARGV[1])
  end
end
return 1
"""


@dataclass(frozen=True)
class Found:
    """What a read saw: the entry (fresh or not), and the namespaces' current generations."""

    envelope: Envelope | None
    generations: Mapping[str, str]


def new_token() -> str:
    return secrets.token_hex(8)


class RedisStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._read = client.register_script(_READ)
        self._write = client.register_script(_WRITE_AND_UNLOCK)
        self._unlock = client.register_script(_UNLOCK)
        self._expire_fresh = client.register_script(_EXPIRE_FRESH)

    async def read(self, key: str, namespaces: Sequence[str]) -> Found:
        generation_ms = int(keys.GENERATION_TTL_S * 1000)
        raw = await self._read(
            keys=[keys.entry(key), *(keys.generation(ns) for ns in namespaces)],
            args=[new_token(), generation_ms],
        )
        fields, generations = raw[: len(FIELDS)], raw[len(FIELDS) :]
        return Found(
            Envelope.from_fields(fields),
            {ns: gen.decode() for ns, gen in zip(namespaces, generations, strict=True)},
        )

    async def write(self, key: str, envelope: Envelope, ttl_s: float, lock_token: str) -> None:
        """Store the entry for ``ttl_s``; release the rebuild lock if ``lock_token`` holds it."""
        fields = envelope.to_fields()
        await self._write(
            keys=[keys.entry(key), keys.lock(key)],
            args=[max(1, int(ttl_s * 1000)), lock_token, *(fields[f] for f in FIELDS)],
        )

    async def lock(self, key: str, token: str, ttl_s: float) -> bool:
        return bool(await self._client.set(keys.lock(key), token, nx=True, px=int(ttl_s * 1000)))

    async def unlock(self, key: str, token: str) -> None:
        await self._unlock(keys=[keys.lock(key)], args=[token])

    async def expire_fresh(self, cache_keys: Sequence[str], now: float) -> None:
        await self._expire_fresh(keys=[keys.entry(key) for key in cache_keys], args=[repr(now)])

    async def bump(self, namespaces: Sequence[str]) -> None:
        generation_ms = int(keys.GENERATION_TTL_S * 1000)
        async with self._client.pipeline(transaction=True) as pipe:
            for ns in namespaces:
                pipe.set(keys.generation(ns), new_token(), px=generation_ms)
            await pipe.execute()

    async def generation(self, namespace: str) -> str:
        """The namespace's current generation (created if missing); read with no entry."""
        found = await self.read("", [namespace])
        return found.generations[namespace]
