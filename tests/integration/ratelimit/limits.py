"""Settings and callers for the rate-limit tests.

The test stack exempts loopback (configs/test.yaml), so that the rest of the suite is never
limited; these tests act as outside clients instead: apps built here with no exemption, and
requests that name their client in X-Forwarded-For, which a service believes only from a
trusted hop (the gateway; here loopback, the gateway's own address in the stack). Each test
takes fresh client addresses from the documentation ranges, so budgets never carry over
between tests or runs.
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import SecretStr

from streamcore.cache.redis_client import create_redis
from streamcore.ratelimit.config import RateRule, TieredBudget
from streamcore.settings import Settings


async def forget(stack: Settings, *keys: str) -> None:
    """Delete budgets a test cannot make fresh (a fixed address, a service account's)."""
    redis = create_redis(stack)
    try:
        await redis.delete(*keys)
    finally:
        await redis.aclose()


def limited(stack: Settings, **changes: Any) -> Settings:
    """The stack's settings with no exempt network and the ratelimit section `changes`."""
    section = stack.ratelimit.model_copy(update={"exempt_networks": (), **changes})
    return stack.model_copy(update={"ratelimit": section})


def with_redis(settings: Settings, url: str) -> Settings:
    """`settings` on another Redis, validated anew (a copy would keep the cached DSN)."""
    return Settings.model_validate({**settings.model_dump(), "redis_url": SecretStr(url)})


def budget(anonymous: int, admin: int = 1_000, service: int = 1_000, **plans: int) -> TieredBudget:
    """A class's budgets per minute: `plans` by name (every other plan: `anonymous`)."""
    names = ("free", "basic", "standard", "premium")
    rules = {name: RateRule(limit=plans.get(name, anonymous)) for name in names}
    return TieredBudget(
        anonymous=RateRule(limit=anonymous), plans=rules, admin=RateRule(limit=admin),
        service=RateRule(limit=service),
    )  # fmt: skip


def client_v4() -> str:
    """A fresh address of TEST-NET-2 (198.51.100.0/24 is one range: use `client_v6` for many)."""
    return f"198.51.100.{secrets.randbelow(254) + 1}"


def client_v6() -> str:
    """A fresh address in a fresh /56 of the documentation prefix 2001:db8::/32."""
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFF) << 8:x}::1"


def forwarded(ip: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip, **headers}
