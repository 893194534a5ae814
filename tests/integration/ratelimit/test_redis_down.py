"""Redis stopped mid-traffic: reads and media fail open to each process's own limiter, sign-in
and sign-up fail closed with 503, nothing answers 500, and Redis' return is picked up.

The services are built here by their factories on the stack's database, with a redis-server
of this test's own (the real binary, started and stopped here): stopping the stack's Redis
would take the rest of the suite down with it.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

from auth.app import create_app as create_auth
from streamcore.binaries import redis_server
from streamcore.settings import Settings
from tests.integration.ratelimit.limits import (
    budget,
    client_v6,
    forwarded,
    limited,
    with_redis,
)
from tests.integration.ratelimit.test_guard import READ, streaming
from tests.processes import free_port

LOGIN = {"email": "nobody@example.com", "password": "not the password"}


class OwnRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(redis_server()), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()


def _outcome(metrics: str, outcome: str) -> float:
    found = re.findall(
        rf'ratelimit_decisions_total\{{[^}}]*outcome="{outcome}"[^}}]*\}} (\S+)', metrics
    )
    return sum(float(value) for value in found)


async def test_redis_stopped_mid_traffic(stack: Settings, own_redis: OwnRedis) -> None:
    settings = with_redis(limited(stack, read=budget(anonymous=8)), own_redis.url)
    async with (
        streaming(settings) as (api, _),
        TestClient(TestServer(create_auth(settings))) as auth,
    ):
        assert (
            await auth.post("/v1/auth/login", json=LOGIN, headers=forwarded(client_v6()))
        ).status == 401
        first = await api.get(READ, headers=forwarded(client_v6()))
        assert first.status == 200 and "RateLimit" in first.headers

        statuses: list[int] = []
        stopped = asyncio.Event()

        async def traffic() -> None:
            # A fresh client each time: none of them reaches its budget.
            while not stopped.is_set() or len(statuses) < 40:
                async with api.get(READ, headers=forwarded(client_v6())) as response:
                    statuses.append(response.status)

        running = asyncio.create_task(traffic())
        await asyncio.sleep(0.3)
        await asyncio.to_thread(own_redis.stop)
        stopped.set()
        await running
        assert statuses and all(status == 200 for status in statuses), statuses

        # Reads fail open, to a per-process limiter that still limits.
        caller = forwarded(client_v6())
        local = [(await api.get(READ, headers=caller)).status for _ in range(10)]
        assert local == [200] * 8 + [429, 429]
        metrics = await (await api.get("/metrics")).text()
        assert _outcome(metrics, "local_allowed") >= 8 and _outcome(metrics, "local_limited") >= 2

        # Sign-in and sign-up fail closed: 503, with a code and Retry-After.
        for path, body in (("/v1/auth/login", LOGIN),
                           ("/v1/auth/signup", {**LOGIN, "display_name": "x"})):  # fmt: skip
            refused = await auth.post(path, json=body, headers=forwarded(client_v6()))
            assert refused.status == 503, await refused.text()
            assert (await refused.json())["error"]["code"] == "rate_limiter_unavailable"
            assert int(refused.headers["Retry-After"]) >= 1

        # Redis is back: after the guard's breaker cools down, sign-in is judged again.
        await asyncio.to_thread(own_redis.start)
        deadline = time.monotonic() + 15
        while True:
            answer = await auth.post("/v1/auth/login", json=LOGIN, headers=forwarded(client_v6()))
            if answer.status == 401:
                break
            assert answer.status == 503 and time.monotonic() < deadline
            await asyncio.sleep(0.5)
        back = await api.get(READ, headers=forwarded(client_v6()))
        assert back.status == 200 and "RateLimit" in back.headers
