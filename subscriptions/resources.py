"""The subscriptions service's resources, opened and closed by cleanup contexts, and their keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

from streamcore import notify
from streamcore.db.schemas import Schema
from streamcore.web.resources import redis_client as redis_client_of
from streamcore.web.resources import schema_pool
from streamcore.web.service import SETTINGS_KEY
from subscriptions.billing.port import BillingProvider
from subscriptions.billing.registry import build_provider
from subscriptions.clock import Clock, clock_for
from subscriptions.metrics import SubscriptionMetrics
from subscriptions.policy import Policy

# The primary's pool on the subscriptions schema only. No replicas: every read decides a
# transition or answers right after one (an entitlement just bought must show at once).
DB_POOL_KEY = web.AppKey("db_pool", asyncpg.Pool)
REDIS_KEY = web.AppKey("redis", aioredis.Redis)
METRICS_KEY = web.AppKey("metrics", SubscriptionMetrics)


@dataclass(frozen=True)
class Billing:
    """What the lifecycle's operations need: the database, the provider, the rules, the time."""

    pool: asyncpg.Pool
    provider: BillingProvider
    policy: Policy
    clock: Clock
    # Where transitions are announced to the account's sockets (None: nowhere).
    notifier: notify.Notifier | None = None


BILLING_KEY = web.AppKey("billing", Billing)


database = schema_pool(Schema.SUBSCRIPTIONS, DB_POOL_KEY)
redis_client = redis_client_of(REDIS_KEY)


async def billing(app: web.Application) -> AsyncIterator[None]:
    """The provider (after the pool: the local one keeps its records there) and the clock."""
    settings, pool = app[SETTINGS_KEY], app[DB_POOL_KEY]
    provider = build_provider(settings, pool)
    redis = app[REDIS_KEY]
    app[BILLING_KEY] = Billing(
        pool,
        provider,
        Policy.from_settings(settings),
        clock_for(settings, redis),
        notify.Notifier.of(settings, redis),
    )
    yield
    await provider.aclose()


def billing_of(request: web.Request) -> Billing:
    return request.app[BILLING_KEY]
