"""Fixtures of the subscriptions service's tests: clients of the stack's gateway (every request
reaches a real subscriptions instance, and the stack's billing pool ticks every
``tick_interval_s`` beside the tests), and the service's own parts opened on the stack's
database and Redis, for the tests that drive the lifecycle directly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from subscriptions.billing.registry import build_provider
from subscriptions.clock import OffsetClock
from subscriptions.policy import Policy
from subscriptions.resources import Billing


@pytest.fixture
def http(stack: Settings) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(stack: Settings) -> dict[str, str]:
    """The CI service account's header (role admin: it holds manage_subscriptions)."""
    return {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}


@pytest.fixture
async def billing(stack: Settings) -> AsyncIterator[Billing]:
    """The service's lifecycle parts, as its app opens them, with the shared test clock."""
    redis = create_redis(stack)
    async with pool_context(stack, schema=Schema.SUBSCRIPTIONS, min_size=1, max_size=8) as pool:
        provider = build_provider(stack, pool)
        yield Billing(pool, provider, Policy.from_settings(stack), OffsetClock(redis))
        await provider.aclose()
    await redis.aclose()
