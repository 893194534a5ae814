"""``GET /diag/<service>/cpu?ms=N``: spend N ms of CPU answering, for capacity tests.

The gateway's CPU-aware routing, and `bench/gateway.py`'s one-vs-two-instances figure, need
an endpoint whose cost is CPU and nothing else. The work runs in a worker thread (it holds the
GIL, so the process is as busy as a CPU-bound handler makes it) and the event loop keeps
answering health checks. Off unless ``diagnostics.enabled`` (dev and test turn it on): then
the route answers 404 like any unknown path.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from streamcore.web.openapi import Operation, Reply
from streamcore.web.service import SETTINGS_KEY, NotFound
from streamcore.web.validation import query_params


class CpuAnswer(BaseModel):
    service: str
    cpu_ms: int
    rounds: int = Field(description="SHA-256 rounds computed meanwhile")


class CpuParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ms: int = Field(10, ge=1, le=1000, description="CPU time to spend, in milliseconds")


def _burn(seconds: float) -> int:
    rounds, deadline = 0, time.thread_time() + seconds
    digest = b""
    while time.thread_time() < deadline:
        digest = hashlib.sha256(digest).digest()
        rounds += 1
    return rounds


def routes(service: str) -> list[web.RouteDef]:
    async def cpu(request: web.Request) -> web.Response:
        if not request.app[SETTINGS_KEY].diagnostics.enabled:
            raise NotFound("no such endpoint")
        params = query_params(request, CpuParams)
        rounds = await asyncio.to_thread(_burn, params.ms / 1000)
        return web.json_response({"service": service, "cpu_ms": params.ms, "rounds": rounds})

    return [web.get(f"/diag/{service}/cpu", cpu)]


def operation(service: str) -> Operation:
    """The endpoint in the service's OpenAPI document."""
    return Operation(
        "GET", f"/diag/{service}/cpu", f"diag_{service}_cpu",
        "Spend CPU time answering (capacity tests; 404 unless diagnostics.enabled)", "diagnostics",
        {200: Reply("The CPU time spent", CpuAnswer)}, query_model=CpuParams, errors=(400, 404),
    )  # fmt: skip
