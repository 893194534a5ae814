"""What the processor's loops and periodic jobs share: settings, pools, its consumer name."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

import aiohttp
import asyncpg
import redis.asyncio as aioredis

from analytics.titles import TitleResolver
from streamcore.settings import Settings


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    consumer: str
    titles: TitleResolver
    # What the jobs ask other services (alert webhooks, the platform job's scrapes).
    http: aiohttp.ClientSession
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Days whose partition of analytics.events is known to exist (analytics/partitions.py).
    partition_days: set[date] = field(default_factory=set)
