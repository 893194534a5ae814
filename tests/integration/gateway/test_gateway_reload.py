"""Hitless reloads of a real HAProxy: no request lost, every slot kept (server-state file)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from gateway.paths import gateway_paths
from gateway.registrar import Registrar
from gateway.reload import ReloadFailed, check_config, master_command, reload
from gateway.runtime import OpState, RuntimeApi
from streamcore import registry
from streamcore.settings import Settings
from tests.integration.gateway.conftest import TEST_LEASE_S, slot_of, wait_until
from tests.integration.gateway.instance_servers import InstanceServer

pytestmark = pytest.mark.stack

Start = Callable[..., Awaitable[InstanceServer]]
CLIENTS = 8


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {"check_interval_s": 2.0}  # sooner in rotation; reloads are what is tested here


def workers(show_proc: str) -> list[str]:
    """The current workers' pids in the master CLI's `show proc`."""
    section = show_proc.split("# workers", 1)[1].split("#", 1)[0]
    return [line.split()[0] for line in section.strip().splitlines()]


async def test_a_reload_loses_no_request_and_keeps_every_slot(
    api: RuntimeApi,
    registry_redis: aioredis.Redis,
    registrar: Registrar,
    instances: Start,
    gateway_settings: Settings,
) -> None:
    first = await instances("streaming", 1, agent_reply="10%")
    second = await instances("streaming", 2)
    for server in (first, second):
        await registry.register(registry_redis, server.registration, TEST_LEASE_S)

    async def both_up_and_weighted() -> bool:
        slots = [await slot_of(api, "streaming", s.port) for s in (first, second)]
        return all(s is not None and s.operational is OpState.UP for s in slots) and (
            slots[0] is not None and slots[0].weight == 10
        )

    await wait_until(both_up_and_weighted, 20, "both in rotation, the first at 10%")
    before = {(s.slot, s.endpoint, s.admin, s.operational, s.weight) for s in await api.servers()}
    master = gateway_paths(gateway_settings).master_socket
    old_workers = workers(await master_command(master, "show proc"))

    failures: list[str] = []
    served = 0
    stop = asyncio.Event()

    async def client() -> None:
        nonlocal served
        # Keep-alive connections, as a real client keeps them across the reload.
        async with aiohttp.ClientSession(base_url=gateway_settings.gateway.entry_url) as http:
            while not stop.is_set():
                try:
                    async with http.get("/v1/sessions") as response:
                        await response.read()
                        if response.status != 200:
                            failures.append(f"status {response.status}")
                except aiohttp.ClientError as exc:
                    failures.append(repr(exc))
                served += 1

    clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
    try:
        await asyncio.sleep(1)
        changed = gateway_settings.model_copy(
            update={"gateway": gateway_settings.gateway.model_copy(update={"retries": 2})}
        )
        assert await reload(changed)
        await asyncio.sleep(2)
    finally:
        stop.set()
        await asyncio.gather(*clients)
    print(f"\n{served} requests from {CLIENTS} keep-alive clients across the reload")
    assert failures == [], failures[:5]
    assert served > 100
    assert workers(await master_command(master, "show proc")) != old_workers
    # The new worker restored every slot from the server-state file: same addresses, states
    # and the agent's weight; the registrar has nothing to redo.
    after = {(s.slot, s.endpoint, s.admin, s.operational, s.weight) for s in await api.servers()}
    assert after == before
    assert "retries 2" in gateway_paths(gateway_settings).config.read_text()
    actions = await registrar.tick()
    assert actions == []


async def test_an_unchanged_config_is_not_reloaded(
    api: RuntimeApi, gateway_settings: Settings
) -> None:
    assert not await reload(gateway_settings)
    assert await reload(gateway_settings, force=True)


async def test_a_config_haproxy_refuses_is_reported_in_its_words(
    api: RuntimeApi, gateway_settings: Settings
) -> None:
    config = gateway_paths(gateway_settings).config
    broken = config.with_name("broken.cfg")
    broken.write_text(config.read_text().replace("balance roundrobin", "balance nonsense"))
    with pytest.raises(ReloadFailed, match="balance only supports"):
        await check_config(broken)
    with contextlib.suppress(FileNotFoundError):
        broken.unlink()
