"""A stand-in for the subscriptions service's entitlement endpoint, for tests of its consumers
that must give an account any plan at once, or take the endpoint down, without moving the
stack's shared test clock or stopping its real service (whose answers are tested end to end in
tests/integration/subscriptions/test_subscriptions_playback.py).

A real aiohttp server on a free local port, answering ``GET /v1/entitlements/{account_id}``
exactly as the contract says (the JSON of `streamcore.entitlements.Entitlement`), from
`answers` (account id -> entitlement); an account not in it gets `default` (None: the free
plan). It checks the caller sends a bearer token, as the real endpoint requires one. Point
``subscriptions.entitlements_url`` at `url`.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from aiohttp import web

from streamcore import entitlements
from streamcore.entitlements import Entitlement
from streamcore.settings import Settings


@dataclass
class EntitlementsStandIn:
    settings: Settings
    answers: dict[UUID, Entitlement] = field(default_factory=dict)
    default: Entitlement | None = None
    url: str = ""
    calls: list[UUID] = field(default_factory=list)
    status: int = 200  # anything else: answered with that status (an outage)

    def grant(self, account_id: UUID, plan: str, state: str = "Active") -> None:
        self.answers[account_id] = entitlements.of_plan(
            self.settings.plans[plan], account_id=account_id, state=state
        )

    async def _answer(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": {"code": "unauthorized"}}, status=401)
        account_id = UUID(request.match_info["account_id"])
        self.calls.append(account_id)
        if self.status != 200:
            return web.json_response({"error": {"code": "unavailable"}}, status=self.status)
        found = self.answers.get(account_id) or self.default
        if found is None:
            found = entitlements.free(self.settings, account_id)
        return web.json_response(text=found.model_dump_json())


@asynccontextmanager
async def entitlements_standin(settings: Settings) -> AsyncIterator[EntitlementsStandIn]:
    standin = EntitlementsStandIn(settings)
    app = web.Application()
    app.router.add_get("/v1/entitlements/{account_id}", standin._answer)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    standin.url = f"http://127.0.0.1:{port}"
    try:
        yield standin
    finally:
        await runner.cleanup()
