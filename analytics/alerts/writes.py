"""The alerts' writes. Each transition is one transaction: the guarded INSERT or UPDATE and its
webhook message, so that a transition is never recorded without its message nor twice."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from analytics.alerts.models import Transition
from analytics.alerts.rules import Verdict


async def fire(conn: asyncpg.Connection, verdict: Verdict, now: datetime) -> Transition | None:
    """Insert the firing alert; None if the rule already has one (the partial unique index
    alerts_one_firing_idx: a second evaluation, or a second processor, inserts nothing)."""
    rule = verdict.rule
    async with conn.transaction():
        row = await conn.fetchrow(
            "INSERT INTO alerts (rule, state, severity, summary, metric, value, threshold,"
            " service, fired_bucket, fired_at) VALUES ($1, 'firing', $2, $3, $4, $5, $6, $7,"
            " $8, $9) ON CONFLICT (rule) WHERE state = 'firing' DO NOTHING RETURNING *",
            rule.name, rule.severity, rule.summary, rule.metric, verdict.value,
            rule.threshold, rule.service, verdict.bucket, now,
        )  # fmt: skip
        if row is None:
            return None
        await _queue_message(conn, row["id"], "firing")
    return Transition.of_row(row, "firing")


async def resolve(conn: asyncpg.Connection, verdict: Verdict, now: datetime) -> Transition | None:
    """Resolve the rule's firing alert; None if none is firing (resolved already)."""
    return await resolve_rule(conn, verdict.rule.name, verdict.value, verdict.bucket, now)


async def resolve_rule(
    conn: asyncpg.Connection, rule: str, value: float | None, bucket: datetime, now: datetime
) -> Transition | None:
    """Resolve `rule`'s firing alert (also for a rule no longer configured: nothing would
    resolve it otherwise); None if none is firing."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "UPDATE alerts SET state = 'resolved', resolved_at = $2, resolved_bucket = $3,"
            " value = $4 WHERE rule = $1 AND state = 'firing' RETURNING *",
            rule, now, bucket, value,
        )  # fmt: skip
        if row is None:
            return None
        await _queue_message(conn, row["id"], "resolved")
    return Transition.of_row(row, "resolved")


async def _queue_message(conn: asyncpg.Connection, alert_id: int, status: str) -> None:
    await conn.execute(
        "INSERT INTO alert_notifications (alert_id, status) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        alert_id, status,
    )  # fmt: skip


async def delivered(conn: asyncpg.Connection, alert_id: int, status: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE alert_notifications SET delivered_at = $3, attempts = attempts + 1,"
        " last_error = NULL WHERE alert_id = $1 AND status = $2",
        alert_id, status, now,
    )  # fmt: skip


async def failed(conn: asyncpg.Connection, alert_id: int, status: str, error: str) -> None:
    await conn.execute(
        "UPDATE alert_notifications SET attempts = attempts + 1, last_error = $3"
        " WHERE alert_id = $1 AND status = $2",
        alert_id, status, error[:1000],
    )  # fmt: skip
