"""The alert webhook: each transition POSTed once as JSON to `analytics.alert_webhook_url`.

Messages are rows of `alert_notifications`, written with their transition. Each evaluation
sends the undelivered ones, oldest first: a message is locked (FOR UPDATE SKIP LOCKED) while it
is sent, so two evaluations at once never send it twice, and marked delivered on a 2xx. A
webhook that is down, slow (past `alert_webhook_timeout_s`) or answering an error leaves the
message for the next evaluation; evaluation itself never waits on it beyond that timeout.
Should the process die between the webhook's 2xx and the commit, the message goes again: the
`Idempotency-Key` header (the same for every attempt) lets a receiver drop the repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import asyncpg

from analytics.alerts import queries, writes
from analytics.alerts.models import Transition

log = logging.getLogger(__name__)

# At most this many messages per evaluation: a long outage's backlog drains over a few minutes.
BATCH = 100


def payload(transition: Transition) -> dict[str, Any]:
    """Alertmanager-like: its `status`, `labels`, `annotations`, `startsAt`, `endsAt`, with our
    rule's figures at the top level too (`rule`, `severity`, `summary`, `value`, `threshold`)."""
    labels = {"alertname": transition.rule, "severity": transition.severity}
    if transition.service:
        labels["service"] = transition.service
    return {
        **transition.to_dict(),
        "labels": labels,
        "annotations": {"summary": transition.summary},
    }


@dataclass(frozen=True)
class Delivery:
    delivered: int = 0
    undelivered: int = 0


async def deliver_pending(
    pool: asyncpg.Pool, session: aiohttp.ClientSession, url: str | None, timeout_s: float,
    now: datetime,
) -> Delivery:  # fmt: skip
    """Send every undelivered message (up to BATCH); no URL: nothing is sent (alerts are still
    recorded and shown), and messages wait for a URL to be configured."""
    if url is None:
        return Delivery()
    async with pool.acquire() as conn:
        pending = await queries.pending_notifications(conn, BATCH)
    sent = 0
    for alert_id, status in pending:
        sent += await _deliver_one(pool, session, url, timeout_s, alert_id, status, now)
    return Delivery(delivered=sent, undelivered=len(pending) - sent)


async def _deliver_one(
    pool: asyncpg.Pool, session: aiohttp.ClientSession, url: str, timeout_s: float,
    alert_id: int, status: str, now: datetime,
) -> bool:  # fmt: skip
    async with pool.acquire() as conn, conn.transaction():
        row = await queries.claim_notification(conn, alert_id, status)
        if row is None:
            return False
        transition = Transition.of_row(row, status)
        error = await _post(session, url, timeout_s, transition)
        if error is None:
            await writes.delivered(conn, alert_id, status, now)
            return True
        log.warning("alert webhook: %s %s not delivered: %s", transition.rule, status, error)
        await writes.failed(conn, alert_id, status, error)
        return False


async def _post(
    session: aiohttp.ClientSession, url: str, timeout_s: float, transition: Transition
) -> str | None:
    """None when the webhook took the message, else why not."""
    headers = {"Idempotency-Key": f"alert-{transition.alert_id}-{transition.status}"}
    try:
        async with session.post(
            url, json=payload(transition), headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:  # fmt: skip
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
