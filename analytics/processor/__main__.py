"""``python -m analytics.processor``: the analytics processor (analytics/processor/loop.py).

Opens its pool (schema analytics) and Redis client, runs until SIGTERM or SIGINT, and then
stops cleanly: the batch in hand is committed and acknowledged, the heartbeat key dropped.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp

from analytics.processor.context import Context
from analytics.processor.loop import run
from analytics.titles import TitleResolver
from streamcore.cache.redis_client import create_redis
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.log import configure_logging
from streamcore.settings import Settings, load_settings
from streamcore.streams import consumer_name

log = logging.getLogger("analytics.processor")


async def serve(settings: Settings) -> None:
    async with pool_context(settings, schema=Schema.ANALYTICS, min_size=1, max_size=4) as pool:
        client, titles = create_redis(settings), TitleResolver.from_settings(settings)
        http = aiohttp.ClientSession()
        ctx = Context(settings, pool, client, consumer_name(), titles, http)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, ctx.stopping.set)
        log.info("analytics processor %s started", ctx.consumer)
        try:
            await run(ctx)
        finally:
            await titles.aclose()
            await http.close()
            await client.aclose()
        log.info("analytics processor %s stopped", ctx.consumer)


def main() -> None:
    settings = load_settings()
    configure_logging(settings)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
