"""`healthy_instances` from the stack's gateway: a service stopped in the stack fires its rule,
and resolves it once it is back in rotation."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
import pytest

from analytics.platform import gateway
from devstack import control
from streamcore.settings import AlertRule, Settings
from tests.integration.analytics_alerts.alerts import Receiver, evaluate, with_rules

pytestmark = pytest.mark.stack

ORIGIN_DOWN = AlertRule(name="origin_down", metric="healthy_instances", op="<", threshold=1,
                        service="origin", severity="critical")  # fmt: skip


async def _healthy_origins(stack: Settings) -> int | None:
    found = await gateway.instances(stack)
    return None if found is None else gateway.healthy_counts(stack, found)["origin"]


async def _wait_for(stack: Settings, wanted: int, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while await _healthy_origins(stack) != wanted:
        assert time.monotonic() < deadline, f"origin never had {wanted} healthy instances"
        await asyncio.sleep(0.5)


async def test_a_stopped_service_fires_its_rule_and_resolves_when_back(
    stack: Settings, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    settings = with_rules(stack, ORIGIN_DOWN, webhook=receiver.url)
    assert await _healthy_origins(stack) == 1
    assert (await evaluate(pool, settings, datetime.now(UTC))).transitions == []
    await asyncio.to_thread(control.stop_service, stack, "origin")
    try:
        await _wait_for(stack, 0, 40)
        fired = await evaluate(pool, settings, datetime.now(UTC))
        assert [(t.rule, t.status, t.value) for t in fired.transitions] == [
            ("origin_down", "firing", 0.0)
        ]
    finally:
        await asyncio.to_thread(control.restart_service, stack, "origin")
    await _wait_for(stack, 1, 60)
    resolved = await evaluate(pool, settings, datetime.now(UTC))
    assert [(t.status, t.value) for t in resolved.transitions] == [("resolved", 1.0)]
    assert [(m["status"], m["labels"]["service"]) for m in receiver.received] == [
        ("firing", "origin"), ("resolved", "origin"),
    ]  # fmt: skip
