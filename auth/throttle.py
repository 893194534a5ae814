"""Failed sign-ins, throttled per account and per client IP with growing delays, in Redis.

Each scope (the email asked for, whether or not it has an account; the client's IP) counts its
failures in a sliding window (``auth.login_window_s`` since the last failure). The first
``auth.login_free_failures`` cost nothing; each one more blocks the scope for twice as long as
the one before, from ``auth.login_base_delay_s`` up to ``auth.login_max_delay_s``. While a scope
is blocked every attempt is a 429 `too_many_attempts` with Retry-After, right or wrong, without
a password hash being computed. A successful sign-in clears the account's count (not the IP's).

Counting and blocking is one Lua script per scope, so concurrent failures cannot undercount.
Redis unavailable: the rate limiter's sign-in budgets refuse first (503, they fail closed:
streamcore/ratelimit/guard.py); should only this throttle's calls fail, sign-ins go on
unthrottled (logged), and the failures are still recorded in PostgreSQL.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streamcore.settings import AuthSettings

log = logging.getLogger(__name__)

_PREFIX = "streamcore:auth:login"

# KEYS: the failure count, the block. ARGV: window (ms), free failures, base and max delay (ms).
# Returns the block now imposed, in ms (0 while within the free failures).
_FAILED = """
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local over = n - tonumber(ARGV[2])
if over <= 0 then return 0 end
local delay = math.min(tonumber(ARGV[3]) * 2 ^ (over - 1), tonumber(ARGV[4]))
delay = math.floor(delay)
redis.call('SET', KEYS[2], '1', 'PX', delay)
return delay
"""


@dataclass(frozen=True)
class Scope:
    kind: str  # account or ip
    key: str

    @property
    def failures(self) -> str:
        return f"{_PREFIX}:{self.kind}:{self.key}:failures"

    @property
    def blocked(self) -> str:
        return f"{_PREFIX}:{self.kind}:{self.key}:blocked"


def scopes(email: str, ip: str | None) -> list[Scope]:
    # The address is hashed: Redis need not hold who tried to sign in.
    found = [Scope("account", hashlib.sha256(email.encode()).hexdigest())]
    if ip is not None:
        found.append(Scope("ip", ip))
    return found


class Throttle:
    def __init__(self, client: aioredis.Redis, settings: AuthSettings) -> None:
        self._redis = client
        self._settings = settings
        self._failed = client.register_script(_FAILED)

    async def wait_s(self, email: str, ip: str | None) -> int:
        """Seconds until a sign-in for `email` from `ip` may be tried (0: now)."""
        try:
            ttls = [await self._redis.pttl(scope.blocked) for scope in scopes(email, ip)]
        except RedisError as exc:
            log.warning("sign-in throttling unavailable (Redis: %s)", exc)
            return 0
        return math.ceil(max([0, *ttls]) / 1000)

    async def failed(self, email: str, ip: str | None) -> int:
        """Count a failure in every scope; the seconds to wait now (0 within the free ones)."""
        s = self._settings
        args = [int(s.login_window_s * 1000), s.login_free_failures,
                int(s.login_base_delay_s * 1000), int(s.login_max_delay_s * 1000)]  # fmt: skip
        try:
            delays = [
                int(await self._failed(keys=[scope.failures, scope.blocked], args=args))
                for scope in scopes(email, ip)
            ]
        except RedisError as exc:
            log.warning("sign-in throttling unavailable (Redis: %s)", exc)
            return 0
        return math.ceil(max(delays) / 1000)

    async def succeeded(self, email: str) -> None:
        (account, *_) = scopes(email, None)
        try:
            await self._redis.delete(account.failures, account.blocked)
        except RedisError as exc:
            log.warning("sign-in throttling unavailable (Redis: %s)", exc)
