"""Fixtures of the auth service's tests: clients of the stack's gateway, and the auth service
built in this process from its own factory (for settings the stack does not have)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from auth.app import create_app
from streamcore.settings import Settings


@pytest.fixture
def http(stack: Settings) -> Iterator[httpx.Client]:
    """The stack's gateway: every request reaches a real auth instance (auth-1)."""
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(stack: Settings) -> dict[str, str]:
    """The CI service account's header (role admin)."""
    return {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}


def auth_settings(stack: Settings, **auth: object) -> Settings:
    return stack.model_copy(update={"auth": stack.auth.model_copy(update=auth)})


@pytest.fixture
async def short_grace(stack: Settings) -> AsyncIterator[TestClient]:
    """The auth service with a 0.3 s refresh reuse grace, in this process, on the stack's
    database and Redis."""
    app = create_app(auth_settings(stack, refresh_reuse_grace_s=0.3))
    async with TestClient(TestServer(app)) as client:
        yield client
