"""The history tests' streaming service (built here by its factory, tests/streaming_http.py)
and a pool on its schema."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from tests.streaming_http import signed_in_app


@pytest.fixture
async def app(stack: Settings) -> AsyncIterator[TestClient]:
    async with signed_in_app(stack) as client:
        yield client


@pytest.fixture
async def pool(stack: Settings) -> AsyncIterator[asyncpg.Pool]:
    async with pool_context(stack, schema=Schema.STREAMING, min_size=1, max_size=2) as found:
        yield found
