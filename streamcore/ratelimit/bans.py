"""Bans (ranges cooling down after tripping automatic tightening): reading them, lifting them,
and the summary ``streamcore ratelimit status`` shows. Written by the judging script
(streamcore/ratelimit/judge.py); the limiter's scripts read their ``factor``.

A ban is the hash ``keys.ban(range)`` (factor, reason, offences, since, until: epoch
milliseconds on Redis' clock; and the estimated requests, errors and accounts that tripped
it) whose TTL is the cool-down; ``keys.BANS_INDEX`` lists the banned ranges by expiry, and
an entry whose hash is gone (expired, lifted) is dropped when the bans are read.

Lifting deletes the ban but keeps the range's offence count by default, so a range that trips
again soon still gets the longer cool-down; ``forget=True`` clears the offences too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from streamcore.ratelimit import keys
from streamcore.ratelimit.config import RateLimitSettings, RateRule
from streamcore.ratelimit.metrics import RateLimitMetrics


@dataclass(frozen=True)
class Ban:
    range: str
    reason: str  # failed_logins | error_ratio | request_rate
    factor: float  # the range's budgets are multiplied by it
    offences: int  # within offence_memory_s, this one included
    since: datetime
    until: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "range": self.range, "reason": self.reason, "factor": self.factor,
            "offences": self.offences, "since": self.since.isoformat(),
            "until": self.until.isoformat(),
        }  # fmt: skip


def moment(epoch_ms: float) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def ban_of(range_: str, fields: dict[Any, Any]) -> Ban | None:
    """The ban in a ban hash's fields; None when there is none (or it is not one of ours)."""
    got = {_text(k): _text(v) for k, v in fields.items()}
    try:
        return Ban(
            range=range_, reason=got.get("reason", "unknown"), factor=float(got["factor"]),
            offences=int(got.get("offences", 1)), since=moment(float(got.get("since", 0))),
            until=moment(float(got.get("until", 0))),
        )  # fmt: skip
    except (KeyError, ValueError):
        return None


def range_of(text: str) -> str:
    """A range as an admin typed it, canonical: a network (``203.0.113.0/24``), or an address
    for the range it belongs to (``203.0.113.7``: its /24). ValueError when it is neither."""
    if "/" not in text:
        found = keys.network_range(text)
        if found is None:
            raise ValueError(f"{text!r} is not an IP network or address")
        return found
    try:
        return keys.parse_range(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP network (e.g. 203.0.113.0/24)") from None


async def active_bans(redis: aioredis.Redis) -> list[Ban]:
    """Every range cooling down, soonest to end first."""
    ranges = [_text(r) for r in await redis.zrange(keys.BANS_INDEX, 0, -1)]
    if not ranges:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for range_ in ranges:
            pipe.hgetall(keys.ban(range_))
        replies = await pipe.execute()
    bans, gone = [], []
    for range_, fields in zip(ranges, replies, strict=True):
        ban = ban_of(range_, fields) if fields else None
        if ban is None:
            gone.append(range_)
        else:
            bans.append(ban)
    if gone:
        await redis.zrem(keys.BANS_INDEX, *gone)
    return sorted(bans, key=lambda b: b.until)


async def lift(
    redis: aioredis.Redis, range_: str, *, forget: bool = False,
    metrics: RateLimitMetrics | None = None,
) -> bool:  # fmt: skip
    """End `range_`'s cool-down now (its canonical form: `range_of`); False if it had none.
    Its offences are kept (the next trip still escalates) unless `forget`."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.ban(range_))
        pipe.zrem(keys.BANS_INDEX, range_)
        if forget:
            pipe.delete(keys.offences(range_))
        deleted, *_ = await pipe.execute()
    if deleted and metrics is not None:
        metrics.unbans.labels(metrics.service).inc()
    return bool(deleted)


def _rule_row(name: str, tier: str, rule: RateRule) -> dict[str, Any]:
    return {
        "class": name, "tier": tier, "limit": rule.limit, "period_s": rule.period_s,
        "algorithm": rule.algorithm, "burst": rule.burst,
    }  # fmt: skip


def budgets(settings: RateLimitSettings) -> list[dict[str, Any]]:
    """One row per budget: class, tier (or who pays), limit, period, algorithm, burst."""
    rows = []
    for name in ("read", "write", "upload"):
        tiered = getattr(settings, name)
        rows.append(_rule_row(name, "anonymous", tiered.anonymous))
        rows += [_rule_row(name, f"plan:{p}", rule) for p, rule in tiered.plans.items()]
        rows += [_rule_row(name, "admin", tiered.admin), _rule_row(name, "service", tiered.service)]
    for name, tier in (("login_per_ip", "ip"), ("login_per_account", "account"),
                       ("media_per_slot", "slot"), ("media_per_ip", "ip")):  # fmt: skip
        rows.append(_rule_row(name, tier, getattr(settings, name)))
    return rows


def _trip(entry: bytes | str) -> dict[str, Any] | None:
    try:
        trip = json.loads(entry)
        trip["at"] = moment(trip["at"]).isoformat()
        trip["until"] = moment(trip["until"]).isoformat()
    except (ValueError, KeyError, TypeError):
        return None
    return {k: trip.get(k) for k in ("range", "reason", "offences", "at", "until", "requests",
                                      "errors", "accounts")}  # fmt: skip


async def status(redis: aioredis.Redis, settings: RateLimitSettings) -> dict[str, Any]:
    """What ``streamcore ratelimit status`` shows: switches, budgets, tightening's thresholds,
    how many ranges are cooling down, and the latest trips (newest first)."""
    bans = await active_bans(redis)
    trips = [t for t in map(_trip, await redis.lrange(keys.TRIPS_LOG, 0, -1)) if t]
    return {
        "enabled": settings.enabled,
        "shadow": settings.shadow,
        "exempt_networks": list(settings.exempt_networks),
        "budgets": budgets(settings),
        "abuse": settings.abuse.model_dump(),
        "active_bans": len(bans),
        "recent_trips": trips,
    }
