"""One evaluation of every alert rule: the job the processor runs each minute (and
`POST /v1/analytics/alerts/evaluate` runs on demand).

For each rule: its metric over the minutes it looks at (QoE rules: the last `for_minutes`
closed minutes of the platform-wide qoe_minutes rows; healthy_instances: the gateway, sampled
now into platform_minutes, and the samples of the minutes before), then fire or resolve
(rules.py), each transition one guarded write (writes.py), announced live and queued for the
webhook; then the undelivered webhook messages are sent (webhook.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import asyncpg

from analytics.alerts import queries, rules, webhook, writes
from analytics.alerts.announce import announce
from analytics.alerts.models import Transition
from analytics.platform import gateway
from analytics.platform import writes as platform_writes
from analytics.qoe_formulas import qoe_value
from streamcore import notify
from streamcore.settings import AlertRule, Settings

log = logging.getLogger(__name__)

HEALTHY = "healthy_instances"


@dataclass(frozen=True)
class AlertContext:
    """What an evaluation needs. `now` unset: the clock's; `publish` unset: no live notices."""

    pool: asyncpg.Pool
    settings: Settings
    session: aiohttp.ClientSession
    now: datetime | None = None
    publish: notify.Publish | None = None


@dataclass(frozen=True)
class Evaluation:
    transitions: list[Transition] = field(default_factory=list)
    delivery: webhook.Delivery = field(default_factory=webhook.Delivery)


def _minutes(rule: AlertRule, now: datetime) -> list[datetime]:
    # The gateway is sampled live, in the current minute; QoE minutes count once closed.
    if rule.metric == HEALTHY:
        return rules.closed_minutes(now + rules.MINUTE, rule.for_minutes)
    return rules.closed_minutes(now, rule.for_minutes)


async def _sample_gateway(context: AlertContext, now: datetime) -> None:
    """Healthy instances per service into platform_minutes, this minute; an unreachable
    gateway records nothing (no data: no rule breaches on it)."""
    found = await gateway.instances(context.settings)
    if found is None:
        return
    counts = gateway.healthy_counts(context.settings, found)
    async with context.pool.acquire() as conn:
        await platform_writes.record(
            conn, rules.minute_of(now), [(HEALTHY, service, n) for service, n in counts.items()]
        )


async def _values(
    conn: asyncpg.Connection, rule: AlertRule, minutes: list[datetime],
    qoe: dict[datetime, asyncpg.Record],
) -> dict[datetime, float | None]:  # fmt: skip
    if rule.metric == HEALTHY:
        found = await queries.platform_values(
            conn, HEALTHY, rule.service or "", minutes[0], minutes[-1]
        )
        return {minute: found.get(minute) for minute in minutes}
    return {minute: qoe_value(rule.metric, qoe.get(minute)) for minute in minutes}


async def _apply(
    conn: asyncpg.Connection, verdict: rules.Verdict, now: datetime
) -> Transition | None:
    if verdict.change is rules.Change.FIRE:
        return await writes.fire(conn, verdict, now)
    if verdict.change is rules.Change.RESOLVE:
        return await writes.resolve(conn, verdict, now)
    return None


async def _transitions(context: AlertContext, now: datetime) -> list[Transition]:
    configured = context.settings.analytics.alert_rules
    longest = max((rule.for_minutes for rule in configured), default=1)
    window = rules.closed_minutes(now, longest)
    done: list[Transition] = []
    async with context.pool.acquire() as conn:
        qoe = await queries.qoe_minutes(conn, window[0], window[-1])
        firing = await queries.firing_rules(conn)
        for rule in configured:
            minutes = _minutes(rule, now)
            values = await _values(conn, rule, minutes, qoe)
            verdict = rules.decide(rule, values, minutes, rule.name in firing)
            transition = await _apply(conn, verdict, now)
            if transition is not None:
                log.info("alert %s %s (value %s)", rule.name, transition.status, verdict.value)
                done.append(transition)
        done += await _resolve_removed(conn, firing, configured, window[-1], now)
    return done


async def _resolve_removed(
    conn: asyncpg.Connection, firing: set[str], configured: tuple[AlertRule, ...],
    bucket: datetime, now: datetime,
) -> list[Transition]:  # fmt: skip
    """Alerts of rules taken out of the settings while firing: resolved (with no value)."""
    removed = sorted(firing - {rule.name for rule in configured})
    done = []
    for name in removed:
        transition = await writes.resolve_rule(conn, name, None, bucket, now)
        if transition is not None:
            log.info("alert %s resolved: its rule is no longer configured", name)
            done.append(transition)
    return done


async def run(context: AlertContext) -> Evaluation:
    """Evaluate every rule once, then send the webhook messages still undelivered."""
    now = context.now or datetime.now(UTC)
    section = context.settings.analytics
    if any(rule.metric == HEALTHY for rule in section.alert_rules):
        await _sample_gateway(context, now)
    transitions = await _transitions(context, now)
    for transition in transitions:
        await announce(context.publish, transition)
    delivery = await webhook.deliver_pending(
        context.pool, context.session, section.alert_webhook_url,
        section.alert_webhook_timeout_s, now,
    )  # fmt: skip
    return Evaluation(transitions, delivery)
