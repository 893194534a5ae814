"""The rate guard in real services built here by their own factories, against the stack's
real Redis (and, for tiers, a stand-in entitlement endpoint: tests/entitlements_standin.py,
a real HTTP server, so that each account can hold any plan at once)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from streamcore.auth.roles import Role
from streamcore.ratelimit import keys
from streamcore.settings import Settings
from streaming.app import create_app as create_streaming
from tests.entitlements_standin import EntitlementsStandIn, entitlements_standin
from tests.integration.ratelimit.limits import budget, client_v6, forget, forwarded, limited
from tests.streaming_http import Device, signed_in_settings, with_entitlements

READ = "/openapi/streaming.json"  # a read of the streaming service that always answers


@asynccontextmanager
async def streaming(
    settings: Settings, cache_s: float | None = None
) -> AsyncIterator[tuple[TestClient, EntitlementsStandIn]]:
    """The streaming service built here, its entitlements from a stand-in (`cache_s`: how
    long an answer is remembered)."""
    async with entitlements_standin(settings) as standin:
        with_plans = with_entitlements(signed_in_settings(settings), standin.url, cache_s)
        app = create_streaming(with_plans)
        async with TestClient(TestServer(app)) as client:
            yield client, standin


async def _statuses(client: TestClient, n: int, headers: dict[str, str]) -> list[int]:
    statuses = []
    for _ in range(n):
        async with client.get(READ, headers=headers) as response:
            statuses.append(response.status)
    return statuses


async def test_a_budget_spent_is_refused_with_its_fields(stack: Settings) -> None:
    settings = limited(stack, read=budget(anonymous=5))
    async with streaming(settings) as (client, _):
        caller = forwarded(client_v6())
        for remaining in (4, 3, 2, 1, 0):
            response = await client.get(READ, headers=caller)
            assert response.status == 200
            assert response.headers["RateLimit-Policy"] == '"read";q=5;w=60'
            r, t = re.fullmatch(r'"read";r=(\d+);t=(\d+)', response.headers["RateLimit"]).groups()
            assert int(r) == remaining and 0 < int(t) <= 60
        refused = await client.get(READ, headers=caller)
        assert refused.status == 429
        body = await refused.json()
        assert body["error"]["code"] == "rate_limited"
        assert body["error"]["policy"] == "read" and body["error"]["limit"] == 5
        retry_after = refused.headers["Retry-After"]
        assert retry_after.isdigit() and 1 <= int(retry_after) <= 60
        assert body["error"]["retry_after"] == int(retry_after)
        assert refused.headers["RateLimit"].startswith('"read";r=0;')
        # Another client's budget is its own.
        assert (await client.get(READ, headers=forwarded(client_v6()))).status == 200


async def test_ipv6_clients_share_their_64(stack: Settings) -> None:
    settings = limited(stack, read=budget(anonymous=3))
    async with streaming(settings) as (client, _):
        prefix = client_v6().removesuffix("::1")
        hosts = [f"{prefix}::{n:x}" for n in (1, 2, 0xBEEF, 0xFFFF)]
        statuses = [(await client.get(READ, headers=forwarded(h))).status for h in hosts]
        assert statuses == [200, 200, 200, 429]


async def test_tiers_follow_the_plan_and_the_role(stack: Settings) -> None:
    settings = limited(
        stack, read=budget(anonymous=2, free=3, standard=5, premium=7, admin=9, service=11)
    )
    async with streaming(settings) as (client, standin):
        ip = forwarded(client_v6())
        tiers: dict[str, dict[str, str]] = {"anonymous": ip}
        for plan in ("free", "standard", "premium"):
            device = Device()
            standin.grant(device.account_id, plan)
            tiers[plan] = {**ip, **device.headers(stack)}
        tiers["admin"] = {**ip, **Device(role=Role.ADMIN).headers(stack)}
        service_key = stack.auth.service_key().get_secret_value()
        await forget(
            stack, *(keys.budget("read", f"s:{name}") for name in stack.auth.service_accounts)
        )
        tiers["service"] = {**ip, "Authorization": f"Bearer {service_key}"}
        admitted = {
            tier: (await _statuses(client, 13, headers)).count(200)
            for tier, headers in tiers.items()
        }
        assert admitted == {
            "anonymous": 2, "free": 3, "standard": 5, "premium": 7, "admin": 9, "service": 11
        }  # fmt: skip


async def test_a_plan_change_changes_the_budget(stack: Settings) -> None:
    settings = limited(stack, read=budget(anonymous=2, free=2, premium=6))
    async with streaming(settings, cache_s=0) as (client, standin):
        device = Device()
        headers = {**forwarded(client_v6()), **device.headers(stack)}
        assert await _statuses(client, 3, headers) == [200, 200, 429]
        standin.grant(device.account_id, "premium")  # upgraded: 6 a minute, 2 spent
        assert await _statuses(client, 5, headers) == [200, 200, 200, 200, 429]


async def test_spoofed_forwarded_for_is_ignored_from_an_untrusted_peer(stack: Settings) -> None:
    settings = limited(stack, read=budget(anonymous=3))
    await forget(stack, keys.budget("read", "ip:127.0.0.2"))
    async with streaming(settings) as (client, _):
        # 127.0.0.2 is not a trusted proxy (gateway.trusted_proxies is 127.0.0.1/32): what it
        # says of its client is ignored, and its own address pays, whatever it claims.
        untrusted = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=untrusted) as session:
            statuses = []
            for _ in range(5):
                spoofed = forwarded(client_v6())
                async with session.get(client.make_url(READ), headers=spoofed) as response:
                    statuses.append(response.status)
        assert statuses == [200, 200, 200, 429, 429]
        # From a trusted hop (loopback stands for the gateway), each client has its own budget.
        assert (await client.get(READ, headers=forwarded(client_v6()))).status == 200


async def test_shadow_mode_counts_and_refuses_nothing(stack: Settings) -> None:
    settings = limited(stack, read=budget(anonymous=2), shadow=True)
    async with streaming(settings) as (client, _):
        caller = forwarded(client_v6())
        for _ in range(5):
            response = await client.get(READ, headers=caller)
            assert response.status == 200
            assert "RateLimit" not in response.headers
        metrics = await (await client.get("/metrics")).text()
        shadow = re.search(
            r'ratelimit_decisions_total\{class="read",outcome="shadow_limited",'
            r'service="streaming",tier="anonymous"\} (\d+)',
            metrics,
        )
        assert shadow is not None and float(shadow.group(1)) == 3


async def test_health_and_metrics_are_never_limited(stack: Settings) -> None:
    settings = limited(stack, read=budget(anonymous=1))
    async with streaming(settings) as (client, _):
        caller = forwarded(client_v6())
        for path in ("/healthz", "/metrics", "/healthz", "/metrics", "/readyz"):
            response = await client.get(path, headers=caller)
            assert response.status == 200 and "RateLimit" not in response.headers
