"""One instance of a web service behind the gateway: serve, register, answer the agent, drain.

``python -m <service package> --instance N`` ends in `run()`: instance N listens on the
service's ``port + N - 1``, holds a lease in the registry (streamcore/registry.py) so that the
registrar puts it into HAProxy, and answers HAProxy's agent check from its CPU use
(streamcore/web/agent.py). On SIGTERM it stops taking new work before it stops serving: the
lease goes, the agent asks for weight 0 and /healthz answers 503 for ``drain_s``, while
requests already running finish; then the server closes.

Every request is logged with the ``X-Request-ID`` and ``X-Forwarded-For`` the gateway set.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from streamcore import registry
from streamcore.cache.redis_client import create_redis
from streamcore.log import configure_logging
from streamcore.settings import Settings, load_settings
from streamcore.web.agent import AgentPolicy, CpuAgent
from streamcore.web.service import LIFECYCLE_KEY, Lifecycle

log = logging.getLogger(__name__)

# aiohttp's access log, with the ids the gateway adds: one request can be followed through
# the gateway's log and every service's.
ACCESS_LOG_FORMAT = (
    '%a "%r" %s %b %Tfs request_id=%{X-Request-ID}i forwarded_for=%{X-Forwarded-For}i'
)


@dataclass(frozen=True)
class InstanceAddress:
    service: str
    index: int
    host: str
    port: int
    agent_port: int
    advertised_host: str

    @classmethod
    def of(cls, settings: Settings, service: str, index: int) -> InstanceAddress:
        section = settings.service(service)
        return cls(
            service, index, section.host, section.instance_port(index),
            section.instance_agent_port(index), section.registered_host,
        )  # fmt: skip

    def registration(self) -> registry.Registration:
        return registry.Registration(
            service=self.service,
            instance=self.index,
            host=self.advertised_host,
            port=self.port,
            agent_port=self.agent_port,
            pid=os.getpid(),
            started_at=time.time(),
        )


def parse_instance(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve one instance of this service.")
    parser.add_argument("--instance", type=int, default=1, help="which instance (from 1)")
    index: int = parser.parse_args(argv).instance
    if index < 1:
        parser.error("--instance counts from 1")
    return index


def run(service: str, create_app: Callable[[Settings], web.Application]) -> None:
    """The `main()` of every web service: settings, logging, then serve until SIGTERM."""
    index = parse_instance()
    settings = load_settings()
    configure_logging(settings)
    if index > settings.gateway.slots:
        raise SystemExit(f"--instance {index}: the gateway has {settings.gateway.slots} slots")
    asyncio.run(serve(settings, InstanceAddress.of(settings, service, index), create_app))


async def serve(
    settings: Settings,
    address: InstanceAddress,
    create_app: Callable[[Settings], web.Application],
) -> None:
    # Before the port opens: a SIGTERM that comes as soon as /healthz answers must drain the
    # instance, not kill it with the default handler.
    stopped = _stop_on_signals()
    app = create_app(settings)
    lifecycle = app[LIFECYCLE_KEY] = Lifecycle()
    app.on_response_prepare.append(_served_by(f"{address.service}-{address.index}"))
    runner = web.AppRunner(
        app, access_log=logging.getLogger(f"{address.service}.access"),
        access_log_format=ACCESS_LOG_FORMAT, handle_signals=False,
    )  # fmt: skip
    await runner.setup()
    await web.TCPSite(runner, address.host, address.port).start()
    gateway = settings.gateway
    agent = CpuAgent(
        address.host,
        address.agent_port,
        AgentPolicy(gateway.cpu_busy_percent, gateway.busy_weight_percent),
    )
    agent.start()
    log.info("%s instance %d on %s:%d", address.service, address.index, address.host,
             address.port)  # fmt: skip
    redis = create_redis(settings)
    try:
        async with registry.lease(redis, address.registration(), settings.registry):
            await stopped.wait()
            lifecycle.draining = agent.draining = True
        # Out of the registry (lease dropped), weight 0, /healthz 503: the gateway stops
        # sending new requests while those already here finish.
        drain_s = settings.service(address.service).drain_s
        log.info("draining for %.1fs before stopping", drain_s)
        await asyncio.sleep(drain_s)
    finally:
        await runner.cleanup()
        agent.stop()
        await redis.aclose()


def _served_by(name: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Say which instance answered: behind a load balancer, the first thing one asks."""

    async def add_header(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Served-By"] = name

    return add_header


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop
