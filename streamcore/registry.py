"""The service registry: which web service instances are alive, as leases in Redis.

Every instance of a web service (catalog, streaming, origin) holds one key,
``streamcore:registry:<service>:<instance>``, whose value is its `Registration` (JSON) and
whose TTL is its lease: it is written with ``SET key value PX ttl`` on start, written again
every ``registry.heartbeat_s`` (10 s) with a fresh TTL, and deleted on a clean stop. An
instance that dies without stopping simply stops renewing, and its key expires after
``registry.lease_ttl_s`` (30 s): the Eureka / etcd-lease model.

Why Redis and not PostgreSQL: a TTL key *is* a lease. Expiry is native (no reaper process, no
clock comparison in SQL, no sweeper that could itself die), renewing is one idempotent
command, and Redis is already every service's broker and cache, so no new dependency. In
PostgreSQL the same needs a table, an ``expires_at`` column compared with ``now()`` on every
read and a periodic DELETE. What Redis loses on a restart is rebuilt within one heartbeat:
`renew` re-registers an instance whose key vanished.

The registry is for discovery only. The gateway's registrar (gateway/registrar.py) reads it
and adds instances to HAProxy; HAProxy's health checks stay the authority for taking an
instance out. This module is the one place that names the keys; it imports no component.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamcore.settings import RegistrySettings

log = logging.getLogger(__name__)

KEY_PREFIX = "streamcore:registry:"
# SCAN's batch hint: the registry holds a few dozen keys at most.
_SCAN_COUNT = 100
# Delete the key only while it still holds our registration: a newer process that took the
# same instance number (a restart racing the old one's exit) keeps its own.
_DELETE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def key(service: str, host: str, port: int) -> str:
    # By address, not by instance number: two processes calling themselves instance 1 (a test's
    # own origin beside the stack's) are two servers, and neither may take the other's lease.
    return f"{KEY_PREFIX}{service}:{host}:{port}"


class InvalidRegistration(ValueError):
    """A registration the gateway could not route to (the message says why)."""


@dataclass(frozen=True)
class Registration:
    """One live instance of a web service, as the gateway needs to reach it."""

    service: str
    instance: int
    host: str
    port: int
    agent_port: int
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        # 0.0.0.0 is where a server listens, never an address another host can reach.
        if _is_unspecified(self.host):
            raise InvalidRegistration(
                f"{self.service} {self.instance}: {self.host} is not a reachable address "
                "(set advertise_host to the address the gateway reaches it at)"
            )
        if self.instance < 1:
            raise InvalidRegistration(f"{self.service}: instance numbers start at 1")

    @property
    def key(self) -> str:
        return key(self.service, self.host, self.port)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Registration:
        """Parse a stored registration; ValueError (InvalidRegistration included) if malformed."""
        try:
            values = json.loads(raw)
            return cls(
                service=str(values["service"]),
                instance=int(values["instance"]),
                host=str(values["host"]),
                port=int(values["port"]),
                agent_port=int(values["agent_port"]),
                pid=int(values["pid"]),
                started_at=float(values["started_at"]),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a registration: {exc}") from None


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False  # a host name


def _ttl_ms(ttl_s: float) -> int:
    return max(1, round(ttl_s * 1000))


async def register(redis: aioredis.Redis, reg: Registration, ttl_s: float) -> None:
    """Write the registration with a fresh lease of ttl_s seconds (idempotent)."""
    await redis.set(reg.key, reg.to_json(), px=_ttl_ms(ttl_s))


async def renew(redis: aioredis.Redis, reg: Registration, ttl_s: float) -> bool:
    """Extend the lease; re-register if the key vanished (it expired, or Redis restarted).

    Returns False when it had to re-register.
    """
    # XX: only if the key still exists, so that a vanished lease is noticed and logged.
    if await redis.set(reg.key, reg.to_json(), px=_ttl_ms(ttl_s), xx=True):
        return True
    log.warning(
        "%s %d: lease was gone (expired, or Redis restarted); registering again",
        reg.service,
        reg.instance,
    )
    await register(redis, reg, ttl_s)
    return False


async def deregister(redis: aioredis.Redis, reg: Registration) -> bool:
    """Delete the registration if it is still ours; True if a key was deleted."""
    deleted = await redis.eval(_DELETE_IF_OURS, 1, reg.key, reg.to_json())
    return bool(deleted)


async def instances(redis: aioredis.Redis) -> list[Registration]:
    """Every live registration, sorted by service and instance. Malformed values are skipped.

    SCAN, never KEYS: KEYS blocks Redis for as long as it walks the whole key space.
    """
    keys = [k async for k in redis.scan_iter(match=f"{KEY_PREFIX}*", count=_SCAN_COUNT)]
    if not keys:
        return []
    found = []
    # A key can expire between SCAN and MGET: its value is then None.
    for name, raw in zip(keys, await redis.mget(keys), strict=True):
        if raw is None:
            continue
        try:
            found.append(Registration.from_json(raw))
        except ValueError as exc:
            log.warning("registry: skipping %r: %s", name, exc)
    return sorted(found, key=lambda r: (r.service, r.instance))


@contextlib.asynccontextmanager
async def lease(
    redis: aioredis.Redis, reg: Registration, settings: RegistrySettings
) -> AsyncIterator[Registration]:
    """Hold `reg`'s lease while the body runs: register, renew by heartbeat, deregister.

    Redis being unreachable never stops the instance: a failed registration or renewal is
    logged (once per outage) and retried at the next heartbeat, which registers it again.
    """
    keeper = _LeaseKeeper(redis, reg, settings)
    await keeper.renew(first=True)
    heartbeat = asyncio.create_task(keeper.run(), name=f"lease {reg.key}")
    try:
        yield reg
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        try:
            await deregister(redis, reg)
            log.info("%s %d: deregistered", reg.service, reg.instance)
        except (RedisError, OSError) as exc:
            log.warning(
                "%s %d: could not deregister (%s); the lease expires within %.0f s",
                reg.service,
                reg.instance,
                exc,
                settings.lease_ttl_s,
            )


class _LeaseKeeper:
    """Renews one lease every heartbeat, logging an outage once rather than every beat."""

    def __init__(
        self, redis: aioredis.Redis, reg: Registration, settings: RegistrySettings
    ) -> None:
        self.redis, self.reg, self.settings = redis, reg, settings
        self.failing = False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            await self.renew()

    async def renew(self, *, first: bool = False) -> None:
        reg = self.reg
        try:
            if first:
                await register(self.redis, reg, self.settings.lease_ttl_s)
                log.info(
                    "%s %d: registered %s:%d (agent port %d), lease %.0f s",
                    reg.service,
                    reg.instance,
                    reg.host,
                    reg.port,
                    reg.agent_port,
                    self.settings.lease_ttl_s,
                )
            else:
                # renew() registers again when the key vanished (Redis restarted, say).
                await renew(self.redis, reg, self.settings.lease_ttl_s)
        except (RedisError, OSError) as exc:
            if not self.failing:
                log.warning(
                    "%s %d: registry unreachable (%s); retrying every %.0f s",
                    reg.service,
                    reg.instance,
                    exc,
                    self.settings.heartbeat_s,
                )
            self.failing = True
            return
        if self.failing:
            log.info("%s %d: registry reachable again", reg.service, reg.instance)
        self.failing = False
