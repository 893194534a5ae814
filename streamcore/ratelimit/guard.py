"""The one rate-limit guard every service installs: who pays, whether they may, and what the
answer says. Every decision is made here, in `RateGuard.decide`.

    guard = RateGuard("catalog", RATE_CLASSES, metrics.registry)
    app = web.Application(middlewares=[metrics, guard.observer, json_errors, ...,
                                       authentication, guard.limiter, authorization(...)])
    guard.install(app)

- `observer` (outside json_errors, so it sees every final status) notes the client address
  and, after the answer, reports its status to automatic tightening (streamcore/ratelimit/
  abuse.py). `limiter` (after authentication: the tier is the caller's) spends the request's
  budget (streamcore/ratelimit/budgets.py) in Redis and refuses with 429 ``rate_limited``, or
  ``abnormal_usage`` while the client's range cools down, with Retry-After; every answer
  carries the RateLimit fields (streamcore/ratelimit/headers.py).
- Shadow mode (``ratelimit.shadow``) decides, logs and counts as ``shadow_limited``, and
  refuses nothing (nor sends the fields, which would then lie).
- Redis unreachable (an error, or the breaker open after a few): reads, writes, uploads and
  media fail open to the per-process limiter (streamcore/ratelimit/local.py); sign-in and
  sign-up fail closed, 503 ``rate_limiter_unavailable``, since a limit nobody enforces is
  what a password-guessing run waits for.
- Exempt networks (``ratelimit.exempt_networks``) are neither limited nor watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError

from streamcore.auth.principal import principal
from streamcore.cache.breaker import CircuitBreaker
from streamcore.cache.redis_client import create_redis
from streamcore.entitlements_client import EntitlementsClient
from streamcore.ratelimit import headers, keys
from streamcore.ratelimit.abuse import ABUSE_KEY, AbuseMonitor
from streamcore.ratelimit.algorithms import RedisLimiter, Verdict
from streamcore.ratelimit.budgets import Budget, account_budget, budget_for
from streamcore.ratelimit.classes import RateClass, class_of
from streamcore.ratelimit.local import LocalLimiter
from streamcore.ratelimit.metrics import RateLimitMetrics
from streamcore.settings import Settings
from streamcore.web.client_ip import client_ip, networks, within
from streamcore.web.service import SETTINGS_KEY, ApiError, Handler, ServiceUnavailable

log = logging.getLogger(__name__)

# Redis failures in a row before the guard stops asking it, and for how long.
BREAKER_FAILURES, BREAKER_RESET_S = 3, 2.0


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


class AbnormalUsage(RateLimited):
    code = "abnormal_usage"


class LimiterUnavailable(ServiceUnavailable):
    code = "rate_limiter_unavailable"


@dataclass(frozen=True)
class Decision:
    budget: Budget
    verdict: Verdict


CLIENT_KEY = web.RequestKey("rate_client", str)
CLASS_KEY = web.RequestKey("rate_class", RateClass)
DECISION_KEY = web.RequestKey("rate_decision", Decision)


class _Exempt:
    def __init__(self, cidrs: tuple[str, ...]) -> None:
        self._networks = networks(cidrs)

    def __call__(self, ip: str) -> bool:
        return bool(self._networks) and within(ip, self._networks)


class GuardState:
    """What one app's guard holds while it runs (opened by `RateGuard.install`'s context)."""

    def __init__(self, settings: Settings, metrics: RateLimitMetrics) -> None:
        self.settings, self.metrics = settings, metrics
        self.redis = create_redis(settings)
        self.limiter = RedisLimiter(self.redis)
        self.local = LocalLimiter()
        self.breaker = CircuitBreaker(BREAKER_FAILURES, BREAKER_RESET_S, name="rate limiter")
        self.exempt = _Exempt(settings.ratelimit.exempt_networks)
        self.entitlements = EntitlementsClient.from_settings(settings)
        abuse = settings.ratelimit.abuse
        self.monitor = (
            AbuseMonitor(self.redis, abuse, metrics, exempt=self.exempt) if abuse.enabled else None
        )

    async def aclose(self) -> None:
        await self.entitlements.aclose()
        await self.redis.aclose()

    async def spend(self, budget: Budget, client: str) -> Verdict:
        """Spend one request of `budget`: in Redis, else locally, else (LOGIN) refuse."""
        ban_key = keys.ban(keys.network_range(client) or "none")
        if self.breaker.allow():
            try:
                verdict = await self.limiter.hit(budget.rule, budget.key, ban_key)
            except (RedisError, OSError) as exc:
                self.breaker.record_failure()
                self.metrics.redis_errors.labels(self.metrics.service).inc()
                log.warning("rate limiter: Redis failed (%s)", exc)
            else:
                self.breaker.record_success()
                return verdict
        if budget.rate_class is RateClass.LOGIN:
            self.metrics.decided(budget.rate_class, budget.tier, "unavailable")
            raise LimiterUnavailable(
                "sign-in is paused while its rate limiter cannot be reached; retry shortly",
                headers={"Retry-After": str(max(1, round(BREAKER_RESET_S)))},
            )
        verdict = self.local.hit(budget.rule, budget.key)
        self.metrics.decided(
            budget.rate_class, budget.tier, "local_allowed" if verdict.allowed else "local_limited"
        )
        return verdict

    def judge(self, budget: Budget, verdict: Verdict, actor: str, ip: str) -> Decision | None:
        """Count the verdict, and raise its 429 unless it passes (or the mode is shadow)."""
        decision = Decision(budget, verdict)
        shadow = self.settings.ratelimit.shadow
        if verdict.allowed:
            self.metrics.decided(budget.rate_class, budget.tier, "allowed")
            return None if shadow else decision
        if shadow:
            self.metrics.decided(budget.rate_class, budget.tier, "shadow_limited")
            log.info("rate limit (shadow): would refuse %s %s from %s (%s)",
                     budget.rate_class, actor, ip, budget.tier)  # fmt: skip
            return None
        self.metrics.decided(budget.rate_class, budget.tier, "limited")
        log.info("rate limit: refused %s %s from %s (%s, banned=%s)",
                 budget.rate_class, actor, ip, budget.tier, verdict.banned)  # fmt: skip
        raise _refusal(budget, verdict)


GUARD_KEY = web.AppKey("rate_guard", GuardState)


def _refusal(budget: Budget, verdict: Verdict) -> RateLimited:
    kind = AbnormalUsage if verdict.banned else RateLimited
    message = (
        "requests from your network look abnormal: its limits are reduced for a while"
        if verdict.banned
        else f"too many {budget.rate_class} requests; retry in {verdict.retry_after_s} s"
    )
    fields = headers.fields(budget.rate_class.value, budget.rule, verdict)
    return kind(
        message,
        headers={"Retry-After": str(max(1, verdict.retry_after_s)), **fields},
        extra={"policy": budget.rate_class.value, "limit": verdict.limit,
               "retry_after": max(1, verdict.retry_after_s)},
    )  # fmt: skip


class RateGuard:
    def __init__(
        self, service: str, classes: Mapping[str, RateClass], registry: CollectorRegistry
    ) -> None:
        self.service, self.classes = service, classes
        self.metrics = RateLimitMetrics(registry, service)

    def install(self, app: web.Application) -> None:
        app.cleanup_ctx.append(self._resources)
        app.on_response_prepare.append(_fields)

    async def _resources(self, app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS_KEY]
        state = GuardState(settings, self.metrics)
        app[GUARD_KEY] = state
        task = None
        if state.monitor is not None:
            app[ABUSE_KEY] = state.monitor
            task = asyncio.create_task(state.monitor.run(), name=f"abuse-monitor-{self.service}")
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if state.monitor is not None:
                await state.monitor.flush()  # what this process saw last still counts
        await state.aclose()

    @web.middleware
    async def observer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        state = request.app[GUARD_KEY]
        settings = state.settings
        rate_class = class_of(request, self.classes)
        request[CLASS_KEY] = rate_class
        ip = client_ip(request, settings) or ""
        request[CLIENT_KEY] = ip
        if not settings.ratelimit.enabled or rate_class is RateClass.UNLIMITED:
            return await handler(request)
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if state.monitor is not None and ip:
                state.monitor.observe(ip, status)  # exempt addresses it ignores itself

    @web.middleware
    async def limiter(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        state = request.app[GUARD_KEY]
        if (decision := await self.decide(request, state)) is not None:
            request[DECISION_KEY] = decision
        return await handler(request)

    async def decide(self, request: web.Request, state: GuardState) -> Decision | None:
        """Spend the request's budget; None when it has none. Raises the 429 (or 503)."""
        # The observer (outermost of the two) has named the class and the client already.
        settings, rate_class, ip = state.settings, request[CLASS_KEY], request[CLIENT_KEY]
        if not settings.ratelimit.enabled or rate_class is RateClass.UNLIMITED:
            return None
        caller = principal(request)
        if state.exempt(ip):
            self.metrics.decided(rate_class, "exempt", "exempt")
            return None
        client = keys.client_group(ip)
        budget = await budget_for(request, rate_class, caller, client, settings, state.entitlements)
        return state.judge(budget, await state.spend(budget, ip), caller.actor, ip)


async def limit_sign_in(request: web.Request, account: str) -> None:
    """The sign-in handlers' second budget: per account (the first, per IP, is the class's)."""
    state, ip = request.app[GUARD_KEY], request[CLIENT_KEY]
    settings = state.settings
    if not settings.ratelimit.enabled or state.exempt(ip):
        return
    budget = account_budget(settings, account)
    state.judge(budget, await state.spend(budget, ip), "account", ip)


async def _fields(request: web.Request, response: web.StreamResponse) -> None:
    decision = request.get(DECISION_KEY)
    if decision is not None:
        name = decision.budget.rate_class.value
        response.headers.update(headers.fields(name, decision.budget.rule, decision.verdict))
