"""Flood protection in a real HAProxy, with tiny caps: the request rate and the open
connections per source address (gateway.flood_*), refused before anything is forwarded."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from gateway.registrar import Registrar
from gateway.runtime import OpState, RuntimeApi
from streamcore.settings import Settings
from tests.integration.gateway.conftest import join, slot_of, wait_until
from tests.integration.gateway.instance_servers import InstanceServer

pytestmark = pytest.mark.stack

Start = Callable[..., Awaitable[InstanceServer]]
RATE = 20
PERIOD_S = 10.0
CONNECTIONS = 5


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    # Caps a test reaches in a fraction of a second. An address' first request starts its
    # rate window (HAProxy's src/freq_ctr.c: a fresh counter rotates to the current tick), and
    # these requests all come within 10 s of it, so they are counted exactly, with no share of
    # a previous window. Checks every 2 s, so that the instance joins quickly.
    return {
        "check_interval_s": 2.0,
        "flood_max_request_rate": RATE,
        "flood_rate_period_s": PERIOD_S,
        "flood_max_connections": CONNECTIONS,
    }


@pytest.fixture
async def http(gateway_settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=gateway_settings.gateway.entry_url) as session:
        yield session


async def metrics(settings: Settings) -> str:
    gateway = settings.gateway
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{gateway.host}:{gateway.metrics_port}/metrics") as response,
    ):
        return await response.text()


def metric(text: str, name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include these."""
    found = [
        float(value)
        for sample, value in re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)$", text, re.MULTILINE)
        if all(f'{key}="{label}"' in sample for key, label in labels.items())
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


async def test_requests_over_the_rate_are_a_json_429_never_forwarded(
    http: aiohttp.ClientSession,
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    catalog = await instances("catalog", 1)
    await join(api, registry_redis, gateway_settings, catalog, timeout_s=10)
    for n in range(RATE):
        async with http.get(f"/v1/titles/{n}") as response:
            assert response.status == 200, (n, await response.text())
    for _ in range(5):
        async with http.get("/v1/titles/over") as response:
            assert response.status == 429
            assert response.content_type == "application/json"
            assert response.headers["Retry-After"] == str(round(PERIOD_S))
            assert response.headers["Cache-Control"] == "no-store"
            body = await response.json()
        assert body["error"]["code"] == "rate_limited" == body["code"]
        assert body["request_id"] == response.headers["X-Request-ID"]
    # The instance saw the 20 it was sent, and none of the refused ones.
    assert [seen["X-Forwarded-For"] for seen in catalog.seen] == ["127.0.0.1"] * RATE
    # Refused by the frontend: they count against no backend and no server.
    text = await metrics(gateway_settings)
    assert metric(text, "haproxy_frontend_requests_denied_total", proxy="fe_gateway") == 5
    assert metric(text, "haproxy_backend_http_requests_total", proxy="catalog") == RATE
    for code in ("4xx", "5xx"):
        assert metric(text, "haproxy_backend_http_responses_total", proxy="catalog", code=code) == 0
    slot = await slot_of(api, "catalog", catalog.port)
    assert slot is not None and slot.operational is OpState.UP


async def test_connections_over_the_cap_are_closed_at_accept(
    gateway_settings: Settings, api: RuntimeApi
) -> None:
    gateway = gateway_settings.gateway
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(CONNECTIONS):
            opened.append(await asyncio.open_connection(gateway.host, gateway.port))

        async def all_accepted() -> bool:  # (the entry may not exist yet)
            table = await api.command("show table fe_gateway")
            return f"conn_cur={CONNECTIONS} " in table or table.endswith(f"conn_cur={CONNECTIONS}")

        # A connect returns once the kernel has the connection, before HAProxy accepts (and
        # counts) it: on a loaded machine an extra one could otherwise be judged first.
        await wait_until(all_accepted, 5, "HAProxy accepted the connections under the cap")
        # The extra ones are reset by HAProxy without a byte (on loopback the reset may come
        # before the connect returns); those let in wait for a request.
        for _ in range(2):
            assert await asyncio.wait_for(_refused(gateway.host, gateway.port), 5)
        for reader, _ in opened:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reader.read(1), 0.3)
        # The ones admitted are served (no route for the path: HAProxy's own 404).
        for reader, writer in opened[:CONNECTIONS]:
            assert (await _get_nowhere(reader, writer)).startswith(b"HTTP/1.1 404")
        # The table holds IPv4 addresses as IPv6 ones, counting only connections let in.
        assert await open_connections(api) == CONNECTIONS
        # One closed (once HAProxy has seen it go), one more is let in.
        opened[0][1].close()
        await opened[0][1].wait_closed()

        async def one_left() -> bool:
            return await open_connections(api) == CONNECTIONS - 1

        await wait_until(one_left, 5, "the closed connection no longer counted")
        opened[0] = await asyncio.open_connection(gateway.host, gateway.port)
        assert (await _get_nowhere(*opened[0])).startswith(b"HTTP/1.1 404")
    finally:
        for _, writer in opened:
            writer.close()
    text = await metrics(gateway_settings)
    assert metric(text, "haproxy_frontend_denied_connections_total", proxy="fe_gateway") == 2


async def open_connections(api: RuntimeApi) -> int:
    """conn_cur of 127.0.0.1's entry in the frontend's table, from the runtime API."""
    table = await api.command("show table fe_gateway")
    found = re.search(r"key=::ffff:127\.0\.0\.1 .*\bconn_cur=(\d+)", table)
    assert found, table
    return int(found[1])


async def _refused(host: str, port: int) -> bool:
    """A connection is closed or reset before any byte is answered."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except ConnectionResetError:
        return True
    try:
        return await reader.read(1) == b""
    except ConnectionResetError:
        return True
    finally:
        writer.close()


async def _get_nowhere(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /nowhere HTTP/1.1\r\nHost: gateway\r\n\r\n")
    await writer.drain()
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
