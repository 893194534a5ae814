"""``python -m gateway``: the registrar process (``registrar``, the default), or a one-off
``render`` (write haproxy.cfg, print its path) or ``reload`` (hitless, if the config changed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable

from gateway.paths import gateway_paths
from gateway.process import write_config
from gateway.registrar import Registrar
from gateway.reload import reload_sync
from gateway.runtime import for_settings
from streamcore.cache.redis_client import create_redis
from streamcore.log import configure_logging
from streamcore.settings import Settings, load_settings

log = logging.getLogger("gateway")


async def run_registrar(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    redis = create_redis(settings)
    try:
        registrar = Registrar(
            redis,
            for_settings(settings),
            backends=settings.gateway.backends,
            interval_s=settings.registry.sync_interval_s,
            scrape=(
                gateway_paths(settings).scrape_targets,
                f"{settings.gateway.host}:{settings.gateway.metrics_port}",
            ),
        )
        await registrar.run(stop)
    finally:
        await redis.aclose()
    log.info("registrar stopped")


def _registrar(settings: Settings, force: bool) -> None:
    asyncio.run(run_registrar(settings))


def _render(settings: Settings, force: bool) -> None:
    print(write_config(settings))


def _reload(settings: Settings, force: bool) -> None:
    reloaded = reload_sync(settings, force=force)
    log.info("reloaded" if reloaded else "config unchanged: nothing to reload")


COMMANDS: dict[str, Callable[[Settings, bool], None]] = {
    "registrar": _registrar,
    "render": _render,
    "reload": _reload,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument("command", nargs="?", default="registrar", choices=tuple(COMMANDS))
    parser.add_argument("--force", action="store_true", help="reload even if unchanged")
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(settings)
    COMMANDS[args.command](settings, args.force)


if __name__ == "__main__":
    main()
