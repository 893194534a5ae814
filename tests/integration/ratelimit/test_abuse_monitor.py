"""Automatic tightening against the stack's Redis: generated attacks from one range trip it
while ordinary traffic beside them does not; bans are hashes the limiter reads, with the
cool-down as TTL; repeat offences cool down longer; several monitors (processes) are judged as
one; a range's usual raises its bar; exempt addresses never count; Redis down costs nothing.

Windows of a few seconds, and flush() driven directly: no waiting on the monitor's loop.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from streamcore.cache.redis_client import create_redis
from streamcore.ratelimit import keys
from streamcore.ratelimit.abuse import AbuseMonitor, active_bans, lift, status
from streamcore.ratelimit.algorithms import RedisLimiter
from streamcore.ratelimit.config import AbuseSettings, RateLimitSettings, RateRule
from streamcore.ratelimit.metrics import RateLimitMetrics
from streamcore.settings import Settings

pytestmark = pytest.mark.stack


def fast(**changes: object) -> AbuseSettings:
    base: dict[str, object] = {
        "window_s": 2.0, "failed_login_accounts": 5, "error_ratio": 0.5, "min_requests": 20,
        "rate_factor": 3.0, "min_rate": 100, "penalty_factor": 0.25, "cooldown_s": 2.0,
        "cooldown_growth": 2.0, "max_cooldown_s": 60.0, "offence_memory_s": 60.0,
    }  # fmt: skip
    return AbuseSettings.model_validate({**base, **changes})


def v4_range() -> str:
    """A /24 of the test's own (in 100.64.0.0/10), as its prefix: ``100.70.3.``."""
    return f"100.{random.randrange(64, 128)}.{random.randrange(256)}."


def v6_range() -> str:
    """A /56 of the test's own (in 2001:db8::/32), as its prefix: ``2001:db8:1a2b:3c``."""
    return f"2001:db8:{random.randrange(65536):x}:{random.randrange(256):x}"


def new_monitor(
    redis: aioredis.Redis,
    settings: AbuseSettings,
    exempt: Callable[[str], bool] = lambda ip: False,
) -> tuple[AbuseMonitor, CollectorRegistry]:
    """A monitor as one process has it, with a metrics registry of its own."""
    registry = CollectorRegistry()
    metrics = RateLimitMetrics(registry, "test")
    return AbuseMonitor(redis, settings, metrics, exempt=exempt), registry


def trips(registry: CollectorRegistry, reason: str) -> float:
    sample = registry.get_sample_value(
        "ratelimit_abuse_trips_total", {"service": "test", "reason": reason}
    )
    return sample or 0.0


@pytest.fixture
async def redis(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(stack)
    yield client
    await client.aclose()


async def test_attacks_trip_their_ranges_and_ordinary_traffic_beside_them_does_not(
    redis: aioredis.Redis,
) -> None:
    monitor, registry = new_monitor(redis, fast())
    logins, scan, flood, ordinary = v4_range(), v6_range(), v4_range(), v6_range()
    for n in range(8):  # failed sign-ins for 8 accounts, from several addresses of the /24
        monitor.failed_login(f"{logins}{n + 1}", f"victim-{n}@example.org")
        monitor.observe(f"{logins}{n + 1}", 401)
    for n in range(40):  # a 404 scan, some pages found
        monitor.observe(f"{scan}00::{n:x}", 404 if n % 4 else 200)
    for _ in range(150):  # far above min_rate, no history
        monitor.observe(f"{flood}9", 200)
    for n in range(40):  # beside them, at the same time: a household being ordinary
        monitor.observe(f"{ordinary}00::7", 404 if n in (3, 40) else 200)
        monitor.observe(f"{ordinary}00::7", 429)  # the limiter's refusals are not errors
    monitor.failed_login(f"{ordinary}00::7", "me@example.org")

    banned = {ban.range: ban for ban in await monitor.flush()}

    by_reason = {ban.reason: rng for rng, ban in banned.items()}
    assert by_reason == {
        "failed_logins": f"{logins}0/24",
        "error_ratio": f"{scan}00::/56",
        "request_rate": f"{flood}0/24",
    }, banned
    for reason in by_reason:
        assert trips(registry, reason) == 1
    assert not await redis.exists(keys.ban(f"{ordinary}00::/56"))
    ban_key = keys.ban(f"{logins}0/24")
    fields = await redis.hgetall(ban_key)
    assert fields[b"factor"] == b"0.25" and fields[b"reason"] == b"failed_logins"
    assert fields[b"offences"] == b"1"
    assert 0 < await redis.pttl(ban_key) <= 2000
    ban = banned[f"{logins}0/24"]
    assert (ban.until - ban.since).total_seconds() == pytest.approx(2.0)
    # The limiter's scripts read it: the range's budgets are a quarter while it cools down.
    verdict = await RedisLimiter(redis).hit(
        RateRule(limit=8), keys.budget("read", f"ip:{logins}1"), ban_key
    )
    assert verdict.banned and verdict.limit == 2
    listed = {b.range for b in await active_bans(redis)}
    assert set(banned) <= listed and f"{ordinary}00::/56" not in listed

    # Still at it: not banned again, and the cool-down is not extended.
    left = await redis.pttl(ban_key)
    for n in range(8):
        monitor.failed_login(f"{logins}1", f"other-{n}@example.org")
    assert await monitor.flush() == []
    assert await redis.pttl(ban_key) <= left
    shown = await status(redis, RateLimitSettings())
    assert shown["active_bans"] >= 3
    assert {t["range"] for t in shown["recent_trips"]} >= set(banned)


async def test_a_repeat_offence_cools_down_longer_until_forgotten(redis: aioredis.Redis) -> None:
    monitor, _ = new_monitor(redis, fast(cooldown_s=1.0, cooldown_growth=3.0, max_cooldown_s=5))
    prefix = v4_range()
    range_ = f"{prefix}0/24"

    async def attack() -> tuple[int, int]:
        """Failed sign-ins for 6 new accounts: (the ban's offences, its TTL in ms)."""
        for n in range(6):
            monitor.failed_login(f"{prefix}{n + 1}", f"{random.getrandbits(64):x}@example.org")
        (ban,) = await monitor.flush()
        assert ban.range == range_
        return ban.offences, await redis.pttl(keys.ban(range_))

    offences, ttl = await attack()
    assert offences == 1 and 0 < ttl <= 1000
    assert await lift(redis, range_)  # offences kept: the next trip escalates
    assert not await lift(redis, range_)
    assert range_ not in {b.range for b in await active_bans(redis)}
    offences, ttl = await attack()
    assert offences == 2 and 1000 < ttl <= 3000
    assert await lift(redis, range_)
    offences, ttl = await attack()
    assert offences == 3 and 3000 < ttl <= 5000  # 9 s, capped at 5
    assert await lift(redis, range_, forget=True)
    assert (await attack())[0] == 1
    assert await lift(redis, range_, forget=True)


async def test_several_processes_are_judged_as_one(redis: aioredis.Redis) -> None:
    monitors = [new_monitor(redis, fast())[0] for _ in range(3)]
    logins, flood = v6_range(), v4_range()
    outcomes = []
    for n, monitor in enumerate(monitors):
        for account in range(2):  # 2 accounts each: 6 together, the threshold is 5
            monitor.failed_login(f"{logins}00::{n + 1}", f"p{n}-a{account}@example.org")
        for _ in range(40):  # 40 each: 120 together, min_rate is 100
            monitor.observe(f"{flood}{n + 1}", 200)
        outcomes.append({ban.range: ban.reason for ban in await monitor.flush()})
    assert outcomes[:2] == [{}, {}]
    assert outcomes[2] == {f"{logins}00::/56": "failed_logins", f"{flood}0/24": "request_rate"}


async def _next_window(window_s: float) -> None:
    """Sleep to just after a window starts (windows are aligned on the epoch, Redis' clock)."""
    await asyncio.sleep(window_s - time.time() % window_s + 0.02)


async def test_a_range_is_held_to_its_usual_and_a_new_one_to_min_rate(
    redis: aioredis.Redis,
) -> None:
    window = 0.5
    monitor, _ = new_monitor(redis, fast(window_s=window, min_rate=30, rate_factor=3.0))
    busy, fresh = v4_range(), v4_range()
    for _ in range(3):  # the busy range's usual: 25 a window (its bar: 3 x 25 = 75)
        await _next_window(window)
        for _ in range(25):
            monitor.observe(f"{busy}5", 200)
        assert await monitor.flush() == []
    await _next_window(window)
    for _ in range(45):  # 45 (+ at most 25 of the last window): under 75, over min_rate
        monitor.observe(f"{busy}5", 200)
        monitor.observe(f"{fresh}5", 200)
    assert [(b.range, b.reason) for b in await monitor.flush()] == [
        (f"{fresh}0/24", "request_rate")
    ]
    for _ in range(60):
        monitor.observe(f"{busy}5", 200)
    assert [b.range for b in await monitor.flush()] == [f"{busy}0/24"]


async def test_exempt_addresses_are_never_counted(redis: aioredis.Redis) -> None:
    prefix = v4_range()
    monitor, _ = new_monitor(redis, fast(), exempt=lambda ip: ip.startswith(prefix))
    for n in range(500):
        monitor.observe(f"{prefix}{n % 250 + 1}", 404)
        monitor.failed_login(f"{prefix}{n % 250 + 1}", f"a{n}@example.org")
    monitor.observe("not an address", 404)
    assert await monitor.flush() == []
    assert not await redis.exists(keys.abuse(f"{prefix}0/24", keys.ABUSE_WINDOW))


async def test_redis_down_costs_a_flush_nothing_but_the_counts(stack: Settings) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = create_redis(stack, dsn=f"redis://127.0.0.1:{probe.getsockname()[1]}/0")
    # A window long enough that the 500 observations and the first flush fit in it on a
    # loaded machine (at 0.2 s, a slow first flush already found them a window old).
    monitor, registry = new_monitor(dead, fast(window_s=1.5))
    for _ in range(500):
        monitor.observe(f"{v4_range()}1", 200)
    assert await monitor.flush() == []  # kept for the next flush, younger than a window
    await asyncio.sleep(1.6)
    assert await monitor.flush() == []  # now older than a window: dropped
    assert await monitor.flush() == []  # nothing left to send
    errors = registry.get_sample_value("ratelimit_redis_errors_total", {"service": "test"})
    assert errors == 2
    await dead.aclose()
