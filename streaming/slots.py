"""Stream slots: how many streams an account plays at once, kept in Redis by one atomic script.

Per account, a sorted set holds the ids of its slots (a slot is a signed-in watch session;
its id is the session's) scored by their last heartbeat, in milliseconds of Redis' own clock
(``TIME``, so that instances whose clocks differ never disagree about expiry), and a hash
beside it holds each slot's metadata (device, asset, profile, user agent, start). Both keys
carry the account in a hash tag, so they live on one node of a cluster.

`SCRIPT` does every operation, each in one atomic step: it first drops the members silent for
``streaming.slot_timeout_s`` (and returns them, so their history can say "expired"), then

- ``acquire`` adds the slot only while the account holds fewer than its limit (and answers
  the holders otherwise); acquiring a slot already held is a success, so a retried command
  never takes two;
- ``beat`` refreshes the score only if the member is still there: a heartbeat never revives
  an expired or released slot;
- ``release`` removes it; ``list`` only answers the holders.

No interleaving of concurrent starts, on any number of instances, can let one stream more in
than the limit: Redis runs one script at a time. The keys expire once every slot in them
would have (an account that stops watching leaves nothing behind).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

SCRIPT = """
local slots, info = KEYS[1], KEYS[2]
local op, id, timeout_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', slots, '-inf', now - timeout_ms)
if #expired > 0 then
  redis.call('ZREM', slots, unpack(expired))
  redis.call('HDEL', info, unpack(expired))
end
local ok, holders = 0, {}
if op == 'acquire' then
  if redis.call('ZSCORE', slots, id) then
    ok = 1
  elseif redis.call('ZCARD', slots) < tonumber(ARGV[4]) then
    redis.call('ZADD', slots, now, id)
    redis.call('HSET', info, id, ARGV[5])
    ok = 1
  else
    holders = redis.call('HVALS', info)
  end
elseif op == 'beat' then
  if redis.call('ZSCORE', slots, id) then
    redis.call('ZADD', slots, 'XX', now, id)
    ok = 1
  end
elseif op == 'release' then
  ok = redis.call('ZREM', slots, id)
  redis.call('HDEL', info, id)
elseif op == 'list' then
  ok = 1
  holders = redis.call('HVALS', info)
else
  return redis.error_reply('unknown slot operation ' .. tostring(op))
end
if redis.call('EXISTS', slots) == 1 then
  redis.call('PEXPIRE', slots, timeout_ms)
  redis.call('PEXPIRE', info, timeout_ms)
end
return {ok, expired, holders}
"""


def _keys(account: UUID) -> list[str]:
    return [f"streaming:slots:{{{account}}}", f"streaming:slot-info:{{{account}}}"]


@dataclass(frozen=True)
class Slot:
    """One stream an account plays: what the player is shown to offer stopping it."""

    session_id: str
    device_id: str | None
    asset_id: str
    profile_id: str
    user_agent: str | None
    started_at: str  # ISO 8601

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    # Slots dropped because they went silent (their history records "expired").
    expired: list[UUID]
    # With a refused acquire and with `holders`: the account's slots, oldest first.
    holders: list[Slot]


def _slot(raw: bytes) -> Slot | None:
    try:
        return Slot(**json.loads(raw))
    except (ValueError, TypeError):
        log.error("stream slots: unreadable metadata %r", raw[:200])
        return None


def _outcome(reply: Sequence[Any]) -> Outcome:
    ok, expired, holders = reply
    slots = [slot for raw in holders if (slot := _slot(raw)) is not None]
    return Outcome(
        ok=bool(ok),
        expired=[UUID(member.decode()) for member in expired],
        holders=sorted(slots, key=lambda slot: slot.started_at),
    )


class Slots:
    """The stream slots of every account, in the Redis of `client`."""

    def __init__(self, client: aioredis.Redis, timeout_s: float) -> None:
        self._script = client.register_script(SCRIPT)
        self._timeout_ms = max(1, round(timeout_s * 1000))

    async def _run(
        self, op: str, account: UUID, slot_id: UUID | None, *extra: str | int
    ) -> Outcome:
        args: list[str | int] = [op, str(slot_id or ""), self._timeout_ms, *extra]
        return _outcome(await self._script(keys=_keys(account), args=args))

    async def acquire(self, account: UUID, slot: Slot, limit: int) -> Outcome:
        payload = json.dumps(slot.to_json(), separators=(",", ":"))
        return await self._run("acquire", account, UUID(slot.session_id), limit, payload)

    async def beat(self, account: UUID, slot_id: UUID) -> Outcome:
        return await self._run("beat", account, slot_id)

    async def release(self, account: UUID, slot_id: UUID) -> Outcome:
        return await self._run("release", account, slot_id)

    async def holders(self, account: UUID) -> Outcome:
        return await self._run("list", account, None)
