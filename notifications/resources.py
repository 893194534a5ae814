"""The notifications service's resources, opened and closed by cleanup contexts, and their keys."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp import web

from streamcore.web.metrics import HttpMetrics
from streamcore.web.resources import redis_client as redis_client_of

REDIS_KEY = web.AppKey("redis", aioredis.Redis)
METRICS_KEY = web.AppKey("metrics", HttpMetrics)

redis_client = redis_client_of(REDIS_KEY)
