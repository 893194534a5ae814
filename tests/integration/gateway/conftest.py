"""A real HAProxy from the rendered config, the registry in the stack's Redis, the registrar.

Each test gets its own HAProxy (its own data folder; the stack's gateway ports shifted by
GATEWAY_PORT_SHIFT, so that it never meets the stack's own gateway) and its own Redis
database (REGISTRY_DB: the registry is the only thing in it, so the stack's own instances
never show up in these tests' HAProxy). The registrar runs in the test's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from gateway.paths import gateway_paths
from gateway.process import argv, write_config
from gateway.registrar import Registrar
from gateway.runtime import OpState, RuntimeApi, Server, for_settings
from streamcore import registry
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.gateway.instance_servers import InstanceServer

GATEWAY_PORT_SHIFT = 40
REGISTRY_DB = 9
# Tests register without a heartbeat, so a lease outlasting the test: an expiry mid-test
# would release a slot the test expects to stay (test_registry_lease covers expiry).
TEST_LEASE_S = 300.0


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    """Gateway settings a test module changes (none here: the shipped checks, as measured)."""
    return {}


@pytest.fixture
def gateway_settings(
    stack: Settings, tmp_path: Path, gateway_overrides: dict[str, Any]
) -> Settings:
    gateway = stack.gateway.model_copy(
        update={
            "port": stack.gateway.port + GATEWAY_PORT_SHIFT,
            "metrics_port": stack.gateway.metrics_port + GATEWAY_PORT_SHIFT,
            **gateway_overrides,
        }
    )
    data = stack.stack.model_copy(update={"data_dir": tmp_path / "gw"})
    return stack.model_copy(update={"gateway": gateway, "stack": data})


def start_haproxy(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    write_config(settings)
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv(settings), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    admin = gateway_paths(settings).admin_socket
    deadline = time.monotonic() + 15
    while not _answers(admin):
        assert process.poll() is None, f"haproxy exited: {log.read_text()}"
        assert time.monotonic() < deadline, f"haproxy did not start: {log.read_text()}"
        time.sleep(0.05)
    return process


def _answers(admin: Path) -> bool:
    """The admin socket answers `show info` (blocking: fixtures run outside the event loop)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(admin))
            sock.sendall(b"show info\n")
            return sock.recv(64).startswith(b"Name: HAProxy")
    except OSError:
        return False


def stop_haproxy(process: subprocess.Popen[bytes]) -> None:
    process.terminate()  # the master stops its workers, then itself
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def haproxy(gateway_settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_haproxy(gateway_settings, tmp_path / "haproxy.log")
    yield process
    stop_haproxy(process)


@pytest.fixture
def api(gateway_settings: Settings, haproxy: subprocess.Popen[bytes]) -> RuntimeApi:
    return for_settings(gateway_settings)


@pytest.fixture
async def registry_redis(stack: Settings) -> AsyncIterator[aioredis.Redis]:
    dsn = stack.redis_dsn.rsplit("/", 1)[0] + f"/{REGISTRY_DB}"
    client = create_redis(stack, dsn=dsn)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def registrar(
    gateway_settings: Settings, api: RuntimeApi, registry_redis: aioredis.Redis
) -> AsyncIterator[Registrar]:
    """The registrar loop, running beside the test until it ends."""
    running = Registrar(
        registry_redis,
        api,
        backends=gateway_settings.gateway.backends,
        interval_s=gateway_settings.registry.sync_interval_s,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    yield running
    stop.set()
    await task


@pytest.fixture
async def instances() -> AsyncIterator[Callable[..., Awaitable[InstanceServer]]]:
    """start(service, index, agent_reply="100%") -> a started instance server."""
    started: list[InstanceServer] = []

    async def start(service: str, index: int, agent_reply: str = "100%") -> InstanceServer:
        server = await InstanceServer(service, index, agent_reply=agent_reply).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.hung.clear()
        await server.stop()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout_s: float, what: str, poll_s: float = 0.1
) -> float:
    """Poll `check` until it is true; return the seconds it took, fail after timeout_s."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():
        assert loop.time() - start < timeout_s, f"{what}: not within {timeout_s} s"
        await asyncio.sleep(poll_s)
    return loop.time() - start


async def slot_of(api: RuntimeApi, backend: str, port: int) -> Server | None:
    """The slot HAProxy has pointed at 127.0.0.1:`port`, if any."""
    return next((s for s in await api.servers(backend) if s.endpoint == ("127.0.0.1", port)), None)


def admission_bound(settings: Settings) -> float:
    """Register → in rotation: a registrar tick, the slot's next check tick, rise - 1 more."""
    gateway = settings.gateway
    return (
        settings.registry.sync_interval_s
        + gateway.check_interval_s
        + (gateway.check_rise - 1) * gateway.check_fast_interval_s
        + 2  # scheduling slack on a busy machine
    )


async def join(
    api: RuntimeApi,
    redis: aioredis.Redis,
    settings: Settings,
    *servers: InstanceServer,
    timeout_s: float | None = None,
) -> None:
    """Register each instance and wait until HAProxy has it up (by default, as long as
    admission may take)."""
    for server in servers:
        await registry.register(redis, server.registration, TEST_LEASE_S)
    for server in servers:

        async def up(server: InstanceServer = server) -> bool:
            slot = await slot_of(api, server.service, server.port)
            return slot is not None and slot.operational is OpState.UP

        await wait_until(
            up,
            timeout_s or admission_bound(settings),
            f"{server.service} {server.index} in rotation",
        )
