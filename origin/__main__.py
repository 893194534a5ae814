"""``python -m origin``: serve the origin; on SIGTERM, drain before stopping."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from origin.app import create_app
from origin.resources import LOAD_KEY
from streamcore.log import configure_logging
from streamcore.settings import Settings, load_settings

log = logging.getLogger("origin")


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.origin.host, settings.origin.port)
    await site.start()
    log.info("origin listening on %s", settings.origin.url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    # Keep serving while /healthz says 404, so load balancers move traffic away first.
    app[LOAD_KEY].draining = True
    log.info("draining for %.1fs before stopping", settings.origin.drain_s)
    await asyncio.sleep(settings.origin.drain_s)
    await runner.cleanup()


def main() -> None:
    settings = load_settings()
    configure_logging(settings)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
