"""Automatic tightening: each process counts what every network range (IPv4 /24, IPv6 /56)
does, adds it to Redis every ``flush_interval_s``, and a range that misbehaves is banned, its
budgets multiplied by ``penalty_factor`` for a cool-down that grows with each offence
(streamcore/ratelimit/config.py ``AbuseSettings``; docs/ratelimits.md).

- ``AbuseMonitor.observe`` and ``failed_login`` are the hot path: in memory only, no Redis;
- ``AbuseMonitor.flush`` sends every range's counts in one pipeline of the judging script
  (streamcore/ratelimit/judge.py: count, judge, ban and escalate atomically on Redis' clock);
- ``bans`` (re-exported here): reading bans, lifting them, the status summary.

A trip is logged (warning) and counted (``ratelimit_abuse_trips_total{reason}``). A flush
that Redis cannot take keeps its counts for the next one while they are younger than a
window, then drops them (logged): tightening is best effort, the budgets stay in force.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from streamcore.ratelimit import keys
from streamcore.ratelimit.bans import Ban, active_bans, ban_of, lift, moment, range_of, status
from streamcore.ratelimit.config import AbuseSettings
from streamcore.ratelimit.judge import JUDGE, Judgement, State, judgement, script_args, script_keys
from streamcore.ratelimit.metrics import RateLimitMetrics

__all__ = [
    "ABUSE_KEY", "AbuseMonitor", "Ban", "active_bans", "ban_of", "lift", "range_of", "status",
]  # fmt: skip

log = logging.getLogger(__name__)

# Bounds on what one process holds between flushes, so that traffic from very many ranges (or
# addresses) cannot grow it without limit: ranges beyond are not counted until the next flush,
# account digests beyond are not needed (the threshold is far lower).
MAX_RANGES = 20_000
MAX_ACCOUNTS_PER_RANGE = 256
_MAX_CACHED_IPS = 100_000
# Ranges sent in one pipeline.
_BATCH = 500


@dataclass
class _Tally:
    requests: int = 0
    errors: int = 0
    accounts: set[str] = field(default_factory=set)

    def add(self, other: _Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.accounts |= other.accounts


def _is_error(status: int) -> bool:
    """A client error; 429s are the limiter's own answers, not the client's errors."""
    return 400 <= status < 500 and status != 429


class AbuseMonitor:
    def __init__(
        self,
        redis: aioredis.Redis,
        settings: AbuseSettings,
        metrics: RateLimitMetrics,
        *,
        exempt: Callable[[str], bool] = lambda ip: False,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.metrics = metrics
        self._exempt = exempt
        self._script = redis.register_script(JUDGE)
        self._tallies: dict[str, _Tally] = {}
        self._since = time.monotonic()  # when the counts held were begun
        self._ranges: dict[str, str | None] = {}  # ip -> its range, None: exempt or not an IP
        self._skipped = 0

    # -- the hot path: memory only --------------------------------------------------------

    def _range(self, ip: str) -> str | None:
        try:
            return self._ranges[ip]
        except KeyError:
            pass
        if len(self._ranges) >= _MAX_CACHED_IPS:
            self._ranges.clear()
        found = None if self._exempt(ip) else keys.network_range(ip)
        self._ranges[ip] = found
        return found

    def _tally(self, ip: str) -> _Tally | None:
        if not self.settings.enabled:
            return None
        range_ = self._range(ip)
        if range_ is None:
            return None
        tally = self._tallies.get(range_)
        if tally is None:
            if len(self._tallies) >= MAX_RANGES:
                self._skipped += 1
                return None
            tally = self._tallies[range_] = _Tally()
        return tally

    def observe(self, ip: str, status: int) -> None:
        """Count one answer to `ip` (every response of every service)."""
        tally = self._tally(ip)
        if tally is not None:
            tally.requests += 1
            tally.errors += _is_error(status)

    def failed_login(self, ip: str, account: str) -> None:
        """Count a failed sign-in from `ip` for `account` (the email; only its digest is kept)."""
        tally = self._tally(ip)
        if tally is not None and len(tally.accounts) < MAX_ACCOUNTS_PER_RANGE:
            tally.accounts.add(keys.digest(account.strip().lower()))

    # -- flushing: one round trip for every range -----------------------------------------

    async def flush(self) -> list[Ban]:
        """Add this process's counts to Redis and judge each range; the bans this created."""
        if not self._tallies:
            return []
        batch, since = self._tallies, self._since
        self._tallies, self._since = {}, time.monotonic()
        if self._skipped:
            log.warning("abuse: %d requests from ranges past the first %d were not counted",
                        self._skipped, MAX_RANGES)  # fmt: skip
            self._skipped = 0
        try:
            judged = await self._judge(batch)
        except (RedisError, OSError) as exc:
            self.metrics.redis_errors.labels(self.metrics.service).inc()
            self._keep(batch, since, exc)
            return []
        return [ban for ban in (self._decided(r, j) for r, j in judged) if ban is not None]

    async def _judge(self, batch: dict[str, _Tally]) -> list[tuple[str, Judgement]]:
        items = list(batch.items())
        judged: list[tuple[str, Judgement]] = []
        for start in range(0, len(items), _BATCH):
            chunk = items[start : start + _BATCH]
            async with self.redis.pipeline(transaction=False) as pipe:
                for range_, tally in chunk:
                    args = script_args(
                        range_, tally.requests, tally.errors, tally.accounts, self.settings
                    )
                    await self._script(keys=script_keys(range_), args=args, client=pipe)
                replies = await pipe.execute()
            judged += [(r, judgement(reply)) for (r, _), reply in zip(chunk, replies, strict=True)]
        return judged

    def _keep(self, batch: dict[str, _Tally], since: float, exc: Exception) -> None:
        """Counts Redis could not take: kept for the next flush while younger than a window
        (they still say something about it), else dropped."""
        age = time.monotonic() - since
        if age >= self.settings.window_s:
            log.warning("abuse: Redis unavailable (%s); dropped the counts of %d ranges "
                        "(%.0f s old)", exc, len(batch), age)  # fmt: skip
            return
        log.warning("abuse: Redis unavailable (%s); keeping the counts of %d ranges",
                    exc, len(batch))  # fmt: skip
        for range_, tally in batch.items():
            self._tallies.setdefault(range_, _Tally()).add(tally)
        self._since = since

    def _decided(self, range_: str, judged: Judgement) -> Ban | None:
        if judged.state is not State.TRIPPED:
            if judged.state is State.COOLING:
                log.debug("abuse: %s is cooling down (requests %.0f, errors %.0f)",
                          range_, judged.requests, judged.errors)  # fmt: skip
            return None
        ban = Ban(
            range=range_, reason=judged.reason, factor=judged.factor, offences=judged.offences,
            since=moment(judged.now_ms), until=moment(judged.until_ms),
        )  # fmt: skip
        log.warning(
            "abuse: %s tripped (%s): requests %.0f, 4xx %.0f, failed-login accounts %.0f in "
            "%.0f s; budgets x%g for %.0f s (offence %d)", range_, judged.reason,
            judged.requests, judged.errors, judged.accounts, self.settings.window_s,
            judged.factor, (judged.until_ms - judged.now_ms) / 1000, judged.offences,
        )  # fmt: skip
        self.metrics.trips.labels(self.metrics.service, judged.reason).inc()
        return ban

    async def run(self) -> None:
        """Flush every ``flush_interval_s`` until cancelled (the guard runs it as a task).
        The counts of the last interval before cancellation are not sent."""
        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            try:
                await self.flush()
            except Exception:  # a bug must not stop tightening for the process's lifetime
                log.exception("abuse: flush failed")


ABUSE_KEY = web.AppKey("abuse_monitor", AbuseMonitor)
