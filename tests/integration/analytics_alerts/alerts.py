"""The alert tests' pieces: the webhook receiver (a real aiohttp server's handler recording
each POST, failing while a test wants it down), settings with a test's own rules, QoE minutes
written by the test itself, and one evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from analytics.alerts.evaluate import AlertContext, Evaluation, run
from streamcore.settings import AlertRule, Settings


@dataclass
class Receiver:
    """The webhook's other end: every POST it took (JSON and headers), and how many it
    refused while `failing` (503, as a receiver that is down behind its proxy answers)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    refused: int = 0
    failing: bool = False

    async def handle(self, request: web.Request) -> web.Response:
        if self.failing:
            self.refused += 1
            return web.json_response({"error": "down"}, status=503)
        self.received.append(await request.json())
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        return web.json_response({"ok": True})


def with_rules(stack: Settings, *rules: AlertRule, webhook: str | None = None) -> Settings:
    section = stack.analytics.model_copy(
        update={"alert_rules": rules, "alert_webhook_url": webhook, "alert_webhook_timeout_s": 2.0}
    )
    return stack.model_copy(update={"analytics": section})


async def put_minute(pool: asyncpg.Pool, bucket: datetime, **counts: int) -> None:
    """The platform-wide ('all') row of one minute, as the rollups write it."""
    columns = ", ".join(counts)
    places = ", ".join(f"${n}" for n in range(2, len(counts) + 2))
    await pool.execute(
        f"INSERT INTO qoe_minutes (bucket, dimension, key, {columns})"
        f" VALUES ($1, 'all', '', {places})",
        bucket, *counts.values(),
    )  # fmt: skip


async def evaluate(pool: asyncpg.Pool, settings: Settings, now: datetime) -> Evaluation:
    async with aiohttp.ClientSession() as session:
        return await run(AlertContext(pool, settings, session, now=now))
