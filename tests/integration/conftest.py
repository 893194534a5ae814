"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from analytics.app import create_app as create_analytics_app
from catalog_api.app import create_app
from streamcore.settings import Settings
from streaming.app import create_app as create_streaming_app
from tests.assets_http import admin_client
from tests.integration.published import Published, publish
from tests.streaming_http import streaming_settings


@pytest.fixture(scope="module")
def published(stack: Settings) -> Published:
    return publish(stack)


@pytest.fixture
async def client(stack: Settings) -> AsyncIterator[TestClient]:
    """The catalog API, built by its own factory in this process, against the stack."""
    async with TestClient(TestServer(create_app(stack))) as c:
        yield c


@pytest.fixture
async def streaming(stack: Settings) -> AsyncIterator[TestClient]:
    """The streaming service, built by its own factory in this process, against the stack; its
    catalog client calls the stack's running catalog (tests/streaming_http.py)."""
    async with TestClient(TestServer(create_streaming_app(streaming_settings(stack)))) as c:
        yield c


@pytest.fixture
async def analytics(stack: Settings) -> AsyncIterator[TestClient]:
    """The analytics service (collector and read API), built by its factory in this process."""
    async with TestClient(TestServer(create_analytics_app(stack))) as c:
        yield c


@pytest.fixture(scope="module")
def streaming_url(stack: Settings) -> str:
    """Where synchronous clients reach the stack's streaming service: through the gateway."""
    return stack.gateway.entry_url


@pytest.fixture
def auth(stack: Settings) -> dict[str, str]:
    """The admin API key's header."""
    return {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}


@pytest.fixture
def api(stack: Settings) -> Iterator[httpx.Client]:
    """A client of the running stack's catalog API, with the admin key."""
    with admin_client(stack) as client:
        yield client
