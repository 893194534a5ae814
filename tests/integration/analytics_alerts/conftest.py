"""The alert tests' fixtures: a pool on the analytics schema (alerts, platform rows and the
platform-wide QoE minutes emptied before each test) and a real local webhook receiver
(alerts.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from tests.integration.analytics_alerts.alerts import Receiver


@pytest.fixture
async def pool(stack: Settings) -> AsyncIterator[asyncpg.Pool]:
    async with pool_context(stack, schema=Schema.ANALYTICS, min_size=1, max_size=4) as found:
        await found.execute("DELETE FROM alerts")
        await found.execute("DELETE FROM platform_minutes")
        await found.execute("DELETE FROM qoe_minutes WHERE dimension = 'all'")
        yield found


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    async with TestServer(app) as server:
        found.url = str(server.make_url("/hook"))
        yield found
