"""The alerts' reads: the QoE minutes and platform samples rules look at, firing alerts, pending
webhook messages, and the alert list of the read API."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from analytics.qoe_formulas import QOE_COLUMNS

_QOE = ", ".join(QOE_COLUMNS)


async def qoe_minutes(
    conn: asyncpg.Connection, start: datetime, end: datetime
) -> dict[datetime, asyncpg.Record]:
    """The platform-wide ('all') rows of minutes in [start, end], by minute."""
    rows = await conn.fetch(
        f"SELECT bucket, {_QOE} FROM qoe_minutes"  # column names, not input
        " WHERE dimension = 'all' AND key = '' AND bucket BETWEEN $1 AND $2",
        start, end,
    )  # fmt: skip
    return {row["bucket"]: row for row in rows}


async def platform_values(
    conn: asyncpg.Connection, metric: str, key: str, start: datetime, end: datetime
) -> dict[datetime, float]:
    rows = await conn.fetch(
        "SELECT bucket, value FROM platform_minutes"
        " WHERE metric = $1 AND key = $2 AND bucket BETWEEN $3 AND $4",
        metric, key, start, end,
    )  # fmt: skip
    return {row["bucket"]: row["value"] for row in rows}


async def firing_rules(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT rule FROM alerts WHERE state = 'firing'")
    return {row["rule"] for row in rows}


async def pending_notifications(conn: asyncpg.Connection, limit: int) -> list[tuple[int, str]]:
    """(alert id, status) of messages not delivered yet, oldest first."""
    rows = await conn.fetch(
        "SELECT alert_id, status FROM alert_notifications WHERE delivered_at IS NULL"
        " ORDER BY created_at, alert_id, status LIMIT $1",
        limit,
    )
    return [(row["alert_id"], row["status"]) for row in rows]


async def claim_notification(
    conn: asyncpg.Connection, alert_id: int, status: str
) -> asyncpg.Record | None:
    """Lock one undelivered message with its alert (in the caller's transaction); None if it
    was delivered meanwhile or another evaluation holds it (it is sending it)."""
    return await conn.fetchrow(
        "SELECT a.* FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id"
        " WHERE n.alert_id = $1 AND n.status = $2 AND n.delivered_at IS NULL"
        " FOR UPDATE OF n SKIP LOCKED",
        alert_id, status,
    )  # fmt: skip


async def alerts(
    conn: asyncpg.Connection, state: str, since: datetime, limit: int = 500
) -> list[asyncpg.Record]:
    """Alerts fired since `since` (and every one still firing), newest first; `state` "all"
    or one state."""
    return await conn.fetch(
        "SELECT id, rule, state, severity, summary, metric, value, threshold, service,"
        " fired_at, resolved_at FROM alerts"
        " WHERE ($1 = 'all' OR state = $1) AND (fired_at >= $2 OR state = 'firing')"
        " ORDER BY fired_at DESC, id DESC LIMIT $3",
        state, since, limit,
    )  # fmt: skip
