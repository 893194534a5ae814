"""The streaming service for tests built in this process by its own factory, against the stack.

The `streaming` fixture's TestClient runs it in the test's event loop; its catalog client is
pointed at the stack's catalog instance (``settings.catalog_api.url``), so that a test can
change the streaming settings (a shorter breaker reset, a closed catalog port) alone.
Synchronous tests and the browser use the stack's own streaming instances, through the gateway.

Signed-in viewers (`Device`): their access tokens are minted here with the stack's own signing
keys (`streamcore.auth.tokens.mint`), as the auth service mints them at sign-in, because that
service's sign-up and login were built beside these tests (issue 12). The services verify them
as always: against the auth service's JWKS, through the gateway.

What a signed-in viewer may play comes from the subscriptions service's entitlement endpoint;
`entitled_app` points the service at a stand-in of it (tests/entitlements_standin.py, a real
HTTP server) answering the ``standard`` plan (two streams, 1080p, no premium titles) for any
account it is not told otherwise about, as the stream limit of the tier these tests were
written against. The stand-in is replaced by the real service wherever the stack runs it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from streamcore import entitlements
from streamcore.auth.roles import Role
from streamcore.auth.tokens import mint
from streamcore.settings import Settings
from streaming.app import create_app
from tests.entitlements_standin import EntitlementsStandIn, entitlements_standin

DEFAULT_PLAN = "standard"


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


def with_entitlements(settings: Settings, url: str, cache_s: float | None = None) -> Settings:
    """`settings` asking the entitlement endpoint at `url` (remembering answers `cache_s`)."""
    update: dict[str, Any] = {"entitlements_url": url}
    if cache_s is not None:
        update["entitlements_cache_s"] = cache_s
    section = settings.subscriptions.model_copy(update=update)
    return settings.model_copy(update={"subscriptions": section})


@asynccontextmanager
async def entitled_app(
    stack: Settings,
    *,
    anonymous: bool = True,
    standin: EntitlementsStandIn | None = None,
    entitlements_cache_s: float | None = None,
    **streaming: Any,
) -> AsyncIterator[tuple[TestClient, EntitlementsStandIn]]:
    """The streaming service built here by its factory from `signed_in_settings`, asking a
    stand-in entitlement endpoint (``standard`` for accounts it is not told about; `standin`:
    that one, shared with another instance; `entitlements_cache_s`: how long the service
    remembers an answer, 0 to ask every time)."""
    async with AsyncExitStack() as stack_of:
        if standin is None:
            standin = await stack_of.enter_async_context(entitlements_standin(stack))
            standin.default = entitlements.of_plan(stack.plans[DEFAULT_PLAN], state="Active")
        settings = signed_in_settings(stack, anonymous=anonymous, **streaming)
        app = create_app(with_entitlements(settings, standin.url, entitlements_cache_s))
        client = await stack_of.enter_async_context(TestClient(TestServer(app)))
        yield client, standin


@asynccontextmanager
async def subscribed_app(stack: Settings, **streaming: Any) -> AsyncIterator[TestClient]:
    """The streaming service built here from `signed_in_settings` (tokens required), asking
    the stack's own subscriptions service for entitlements, through the gateway."""
    app = create_app(signed_in_settings(stack, anonymous=False, **streaming))
    async with TestClient(TestServer(app)) as client:
        yield client


@asynccontextmanager
async def signed_in_app(
    stack: Settings, *, anonymous: bool = True, **streaming: Any
) -> AsyncIterator[TestClient]:
    """`entitled_app`'s service alone: every account on the ``standard`` plan."""
    async with entitled_app(stack, anonymous=anonymous, **streaming) as (client, _):
        yield client


@dataclass(frozen=True)
class Device:
    """One sign-in of a person: an account, the profile it watches as, its device session."""

    account_id: uuid.UUID = field(default_factory=uuid.uuid4)
    profile_id: uuid.UUID = field(default_factory=uuid.uuid4)
    device_id: uuid.UUID = field(default_factory=uuid.uuid4)
    maturity: str = "adult"
    role: Role = Role.VIEWER

    def another(self, **changes: Any) -> Device:
        """Another device of the same account (and profile, unless changed)."""
        fields = {
            "account_id": self.account_id, "profile_id": self.profile_id,
            "maturity": self.maturity, "role": self.role, **changes,
        }  # fmt: skip
        return Device(**fields)

    def headers(self, stack: Settings, user_agent: str = "test-player/1") -> dict[str, str]:
        """An access token as the auth service mints it at sign-in (or profile selection)."""
        token, _ = mint(
            stack.auth, account_id=self.account_id, session_id=self.device_id, role=self.role,
            profile_id=self.profile_id, maturity=self.maturity,
        )  # fmt: skip
        return {"Authorization": f"Bearer {token}", "User-Agent": user_agent}


async def start_session(
    client: TestClient, stack: Settings, device: Device, asset: uuid.UUID, status: int = 201
) -> dict[str, Any]:
    """``POST /v1/sessions`` for `asset` from `device`, expected to answer `status`."""
    response = await client.post(
        "/v1/sessions", json={"asset_id": str(asset)}, headers=device.headers(stack)
    )
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def heartbeat(
    client: TestClient, stack: Settings, device: Device, session: str, position_s: float = 3
) -> tuple[int, dict[str, Any]]:
    """A session's heartbeat from `device`: its status and body."""
    response = await client.post(
        f"/v1/sessions/{session}/heartbeat", json={"position_s": position_s},
        headers=device.headers(stack),
    )  # fmt: skip
    return response.status, await response.json()
