"""Alert evaluation against the stack's PostgreSQL, with QoE minutes written here and a real
local webhook receiver: a rule fires once, resolves once, and each transition reaches the
webhook exactly once, even when the webhook was down the first time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from analytics.alerts.rules import minute_of
from streamcore.settings import AlertRule, Settings
from tests.integration.analytics_alerts.alerts import Receiver, evaluate, put_minute, with_rules

pytestmark = pytest.mark.stack

MINUTE = timedelta(minutes=1)
SPIKE = AlertRule(name="viewer_spike", metric="concurrent_viewers", threshold=100,
                  for_minutes=3, severity="critical", summary="A viewer spike")  # fmt: skip


def _base() -> datetime:
    return minute_of(datetime.now(UTC)) - 30 * MINUTE


async def _spike(pool: asyncpg.Pool, base: datetime) -> None:
    """Three minutes above the threshold, then two below."""
    for n, concurrent in enumerate((150, 180, 160, 50, 40)):
        await put_minute(pool, base + n * MINUTE, concurrent=concurrent, views=3)


async def test_a_viewer_spike_fires_once_and_resolves_once(
    stack: Settings, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    settings = with_rules(stack, SPIKE, webhook=receiver.url)
    base = _base()
    await _spike(pool, base)
    # Two minutes closed above the threshold: not yet.
    early = await evaluate(pool, settings, base + 2 * MINUTE + timedelta(seconds=5))
    assert early.transitions == []
    at = base + 3 * MINUTE + timedelta(seconds=5)
    fired = await evaluate(pool, settings, at)
    assert [(t.rule, t.status, t.value) for t in fired.transitions] == [
        ("viewer_spike", "firing", 160.0)
    ]
    again = await evaluate(pool, settings, at + timedelta(seconds=20))
    assert again.transitions == []
    resolved = await evaluate(pool, settings, at + MINUTE)
    assert [(t.status, t.value) for t in resolved.transitions] == [("resolved", 50.0)]
    assert (await evaluate(pool, settings, at + 2 * MINUTE)).transitions == []

    assert [(m["status"], m["rule"]) for m in receiver.received] == [
        ("firing", "viewer_spike"), ("resolved", "viewer_spike"),
    ]  # fmt: skip
    firing, ended = receiver.received
    assert firing["severity"] == "critical" and firing["summary"] == "A viewer spike"
    assert firing["threshold"] == 100 and firing["endsAt"] is None
    assert firing["labels"] == {"alertname": "viewer_spike", "severity": "critical"}
    assert ended["startsAt"] == firing["startsAt"] and ended["endsAt"] is not None
    assert len(set(receiver.keys)) == 2
    rows = await pool.fetch("SELECT state, resolved_at, fired_bucket FROM alerts")
    assert [(r["state"], r["fired_bucket"]) for r in rows] == [("resolved", base + 2 * MINUTE)]
    assert rows[0]["resolved_at"] == at + MINUTE


async def test_a_webhook_down_at_firing_gets_it_at_the_next_evaluation_once(
    stack: Settings, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    settings = with_rules(stack, SPIKE, webhook=receiver.url)
    base = _base()
    await _spike(pool, base)
    at = base + 3 * MINUTE + timedelta(seconds=5)
    receiver.failing = True
    fired = await evaluate(pool, settings, at)
    assert len(fired.transitions) == 1
    assert (fired.delivery.delivered, fired.delivery.undelivered) == (0, 1)
    assert receiver.refused == 1 and receiver.received == []

    receiver.failing = False
    retried = await evaluate(pool, settings, at + timedelta(seconds=30))
    assert retried.transitions == []
    assert (retried.delivery.delivered, retried.delivery.undelivered) == (1, 0)
    await evaluate(pool, settings, at + timedelta(seconds=40))
    assert [m["status"] for m in receiver.received] == ["firing"]
    row = await pool.fetchrow("SELECT attempts, delivered_at FROM alert_notifications")
    assert row["attempts"] == 2 and row["delivered_at"] is not None


async def test_an_unreachable_webhook_never_blocks_evaluation(
    stack: Settings, pool: asyncpg.Pool
) -> None:
    # Nothing listens on the discard port of loopback: connection refused, at once.
    settings = with_rules(stack, SPIKE, webhook="http://127.0.0.1:9/hook")
    base = _base()
    await _spike(pool, base)
    fired = await evaluate(pool, settings, base + 3 * MINUTE + timedelta(seconds=5))
    assert len(fired.transitions) == 1 and fired.delivery.undelivered == 1
    error = await pool.fetchval("SELECT last_error FROM alert_notifications")
    assert "Client" in error or "Error" in error


async def test_ratios_over_nothing_do_not_fire(stack: Settings, pool: asyncpg.Pool) -> None:
    rule = AlertRule(name="starts_fail", metric="start_failure_percentage", threshold=5)
    settings = with_rules(stack, rule)
    base = _base()
    await put_minute(pool, base, views=0, startup_failures=0, concurrent=3)
    assert (await evaluate(pool, settings, base + MINUTE + timedelta(seconds=1))).transitions == []
    await put_minute(pool, base + MINUTE, views=10, startup_failures=1)
    fired = await evaluate(pool, settings, base + 2 * MINUTE + timedelta(seconds=1))
    assert [(t.rule, t.value) for t in fired.transitions] == [("starts_fail", 10.0)]


async def test_a_rule_removed_while_firing_resolves(
    stack: Settings, pool: asyncpg.Pool, receiver: Receiver
) -> None:
    base = _base()
    await _spike(pool, base)
    at = base + 3 * MINUTE + timedelta(seconds=5)
    await evaluate(pool, with_rules(stack, SPIKE, webhook=receiver.url), at)
    emptied = await evaluate(pool, with_rules(stack, webhook=receiver.url), at + MINUTE)
    assert [(t.rule, t.status, t.value) for t in emptied.transitions] == [
        ("viewer_spike", "resolved", None)
    ]
    assert [m["status"] for m in receiver.received] == ["firing", "resolved"]
