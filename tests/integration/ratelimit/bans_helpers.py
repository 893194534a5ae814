"""Bans made the way production makes them: a monitor sees an attack and flushes (for the
admin API's and the CLI's tests)."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry

from streamcore.cache.redis_client import create_redis
from streamcore.ratelimit.abuse import AbuseMonitor
from streamcore.ratelimit.config import AbuseSettings
from streamcore.ratelimit.metrics import RateLimitMetrics
from streamcore.settings import Settings


def random_address(v6: bool = False) -> str:
    """An address of a range of the test's own (100.64.0.0/10, 2001:db8::/32)."""
    if v6:
        return f"2001:db8:{random.randrange(65536):x}:{random.randrange(256):x}00::1"
    return f"100.{random.randrange(64, 128)}.{random.randrange(256)}.1"


async def ban_by_attack(stack: Settings, address: str, cooldown_s: float = 60.0) -> str:
    """Trip `address`'s range with failed sign-ins for many accounts; the range banned."""
    settings = AbuseSettings(failed_login_accounts=3, cooldown_s=cooldown_s)
    redis = create_redis(stack)
    try:
        monitor = AbuseMonitor(redis, settings, RateLimitMetrics(CollectorRegistry(), "test"))
        for n in range(5):
            monitor.failed_login(address, f"{random.getrandbits(64):x}-{n}@example.org")
        (ban,) = await monitor.flush()
    finally:
        await redis.aclose()
    return ban.range
