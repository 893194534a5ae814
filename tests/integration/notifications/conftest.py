"""The notifications tests' clients: one to the gateway, and a Redis client of the stack's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings


@pytest.fixture
async def gateway(stack: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    """HTTP and WebSockets through the stack's gateway."""
    async with aiohttp.ClientSession(base_url=stack.gateway.entry_url) as session:
        yield session


@pytest.fixture
async def redis(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(stack)
    yield client
    await client.aclose()
