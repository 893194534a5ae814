"""The streaming service for tests built in this process by its own factory, against the stack.

The `streaming` fixture's TestClient runs it in the test's event loop; its catalog client is
pointed at the stack's catalog instance (``settings.catalog_api.url``), so that a test can
change the streaming settings (a shorter breaker reset, a closed catalog port) alone.
Synchronous tests and the browser use the stack's own streaming instances, through the gateway.

Signed-in viewers (`Device`): their access tokens are minted here with the stack's own signing
keys (`streamcore.auth.tokens.mint`), as the auth service mints them at sign-in, because that
service's sign-up and login were built beside these tests (issue 12). The services verify them
as always: against the auth service's JWKS, through the gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from streamcore.auth.roles import Role
from streamcore.auth.tokens import mint
from streamcore.settings import Settings
from streaming.app import create_app


def streaming_settings(stack: Settings, **streaming: Any) -> Settings:
    """The stack's settings, its streaming section calling the catalog directly (and changed
    by `streaming`, say a shorter breaker reset)."""
    section = stack.streaming.model_copy(update={"catalog_url": stack.catalog_api.url, **streaming})
    return stack.model_copy(update={"streaming": section})


def signed_in_settings(stack: Settings, *, anonymous: bool = True, **streaming: Any) -> Settings:
    """`streaming_settings`; `anonymous` False refuses callers without a token, as production
    does (the test stack allows them, for the older tests)."""
    settings = streaming_settings(stack, **streaming)
    auth = settings.auth.model_copy(update={"allow_anonymous_playback": anonymous})
    return settings.model_copy(update={"auth": auth})


@asynccontextmanager
async def signed_in_app(
    stack: Settings, *, anonymous: bool = True, **streaming: Any
) -> AsyncIterator[TestClient]:
    """The streaming service built here by its factory from `signed_in_settings`."""
    app = create_app(signed_in_settings(stack, anonymous=anonymous, **streaming))
    async with TestClient(TestServer(app)) as client:
        yield client


@dataclass(frozen=True)
class Device:
    """One sign-in of a person: an account, the profile it watches as, its device session."""

    account_id: uuid.UUID = field(default_factory=uuid.uuid4)
    profile_id: uuid.UUID = field(default_factory=uuid.uuid4)
    device_id: uuid.UUID = field(default_factory=uuid.uuid4)
    maturity: str = "adult"
    tier: str | None = "standard"
    role: Role = Role.VIEWER

    def another(self, **changes: Any) -> Device:
        """Another device of the same account (and profile, unless changed)."""
        fields = {
            "account_id": self.account_id, "profile_id": self.profile_id,
            "maturity": self.maturity, "tier": self.tier, "role": self.role, **changes,
        }  # fmt: skip
        return Device(**fields)

    def headers(self, stack: Settings, user_agent: str = "test-player/1") -> dict[str, str]:
        """An access token as the auth service mints it at sign-in (or profile selection)."""
        token, _ = mint(
            stack.auth, account_id=self.account_id, session_id=self.device_id, role=self.role,
            profile_id=self.profile_id, maturity=self.maturity, tier=self.tier,
        )  # fmt: skip
        return {"Authorization": f"Bearer {token}", "User-Agent": user_agent}
