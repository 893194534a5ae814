"""The services of the local stack: what each runs, where it answers, and in which order.

One table (SERVICES) maps each service to its program builder; `up`, `status` and `down` all
read it (through service_specs(), which adds the PostgreSQL replicas the settings ask for), so
adding a service is one entry here plus its health probe in health.py.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devstack import gateway_programs, pools
from devstack.replicas import (
    STANDBY_OPTIONS,
    postgres_replica_data_dir,
    primary_options,
    replica_dsn,
    replica_indexes,
    replica_name,
    replica_port,
    replica_ports,
)
from devstack.supervisor import Program
from streamcore import binaries
from streamcore.settings import SERVICE_SECTIONS, LocalEdgeCdn, Settings, local_edges
from streamcore.tasks.routes import QueueName


class Service(enum.StrEnum):
    POSTGRES = "postgres"
    REDIS = "redis"
    S3 = "s3"
    SCHEDULER = "scheduler"
    EDGE = "edge"
    GATEWAY = "gateway"  # HAProxy
    REGISTRAR = "registrar"  # applies the registry to HAProxy's servers
    # Consumes the playback events' stream, rolls up minutes, evaluates alerts (analytics/).
    ANALYTICS_PROCESSOR = "analytics-processor"


# The web services behind the gateway, each run as instances `<name>-<i>` of
# `python -m <module> --instance i`; the name is the one the gateway's route table uses.
WEB_SERVICES: dict[str, str] = {
    "catalog": "catalog_api",
    "streaming": "streaming",
    "origin": "origin",
    "auth": "auth",
    "subscriptions": "subscriptions",
    "analytics": "analytics",
    "notifications": "notifications",
}


class Tier(enum.IntEnum):
    """Start order: every service of a tier is healthy before the next tier starts."""

    INFRA = 0
    # PostgreSQL's streaming replicas: each is cloned from the primary, so it must be up first.
    REPLICAS = 1
    APP = 2
    # HAProxy and the registrar, once there are instances to route to.
    GATEWAY = 3


@dataclass(frozen=True)
class ServiceSpec:
    service: str  # a Service, or a replica's name (postgres-replica-1, ...)
    tier: Tier
    managed: Callable[[Settings], bool]
    program: Callable[[Settings], Program]
    url: Callable[[Settings], str]
    replica: int = 0  # which replica of the local PostgreSQL (from 1); 0: not a replica
    queue: QueueName | None = None  # the queue a worker pool consumes; None: not a pool
    group: str = ""  # the web service this is an instance of (catalog, ...); "": none
    instance: int = 0  # which instance of `group` (from 1)


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to print and to put in --json output."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def postgres_data_dir(settings: Settings) -> Path:
    return settings.stack.data_dir / "postgres"


def redis_config_path(settings: Settings) -> Path:
    return settings.stack.data_dir / "run" / "redis.conf"


def s3_identity_path(settings: Settings) -> Path:
    return settings.stack.data_dir / "run" / "s3-identities.json"


def postgres_system_user(settings: Settings) -> str | None:
    # PostgreSQL refuses to run as root, so a root-started stack runs it as a plain user.
    return settings.stack.postgres_system_user if os.geteuid() == 0 else None


def _replica_url(settings: Settings, index: int) -> str:
    return redact(replica_dsn(settings, index))


def _postgres_command(settings: Settings, data_dir: Path, port: int) -> list[str]:
    return [
        str(binaries.postgres_bin_dir() / "postgres"),
        "-D", str(data_dir),
        "-p", str(port),
        "-h", settings.stack.host,
        # TCP only: a socket path under a deep data folder can exceed the 107-byte limit.
        "-c", "unix_socket_directories=",
        # Room for every process's pools; a standby refuses to start with fewer than its primary.
        "-c", f"max_connections={settings.stack.postgres_max_connections}",
        "-c", "logging_collector=off",
    ]  # fmt: skip


def _postgres_program(name: str, settings: Settings, command: list[str]) -> Program:
    return Program(
        name=name,
        command=command,
        user=postgres_system_user(settings),
        stop_signal="INT",  # "fast" shutdown: roll back open transactions, then exit
        stop_wait_s=30,
    )


def _postgres(settings: Settings) -> Program:
    command = _postgres_command(settings, postgres_data_dir(settings), settings.stack.postgres_port)
    return _postgres_program(Service.POSTGRES, settings, command + primary_options(settings))


def _postgres_replica(settings: Settings, index: int) -> Program:
    data_dir = postgres_replica_data_dir(settings, index)
    command = _postgres_command(settings, data_dir, replica_port(settings, index))
    return _postgres_program(replica_name(index), settings, [*command, *STANDBY_OPTIONS])


def _redis(settings: Settings) -> Program:
    return Program(
        name=Service.REDIS, command=[str(binaries.redis_server()), str(redis_config_path(settings))]
    )


def _s3(settings: Settings) -> Program:
    base = settings.stack.seaweed_port_base
    data = settings.stack.data_dir / "s3"
    host = settings.stack.host
    # `weed mini` runs master, volume, filer and the S3 gateway in one process. Every port is
    # set explicitly (each gRPC port is its HTTP port + 10000) so two stacks never collide.
    return Program(
        name=Service.S3,
        command=[
            str(binaries.weed()), "mini",
            f"-dir={data}",
            f"-ip={host}", f"-ip.bind={host}",
            f"-master.port={base}",
            f"-volume.port={base + 1}",
            f"-filer.port={base + 2}",
            f"-admin.port={base + 3}", "-admin.ui=false",
            f"-s3.port={settings.stack.s3_port}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={s3_identity_path(settings)}",
            "-webdav=false",
            "-master.telemetry=false",
            "-volume.max=0",
        ],
        stop_wait_s=15,
    )  # fmt: skip


def _always(_: Settings) -> bool:
    return True


def local_edge(settings: Settings) -> LocalEdgeCdn | None:
    """The first local edge among the configured CDNs: the one the stack runs."""
    return next(iter(local_edges(settings)), None)


def edge_url(settings: Settings) -> str:
    edge = local_edge(settings)
    return edge.url if edge else ""


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        Service.POSTGRES,
        Tier.INFRA,
        managed=lambda s: s.manages_postgres,
        program=_postgres,
        url=lambda s: redact(s.postgres_dsn),
    ),
    ServiceSpec(
        Service.REDIS,
        Tier.INFRA,
        managed=lambda s: s.manages_redis,
        program=_redis,
        url=lambda s: redact(s.redis_dsn),
    ),
    ServiceSpec(
        Service.S3,
        Tier.INFRA,
        managed=lambda s: s.manages_s3,
        program=_s3,
        url=lambda s: s.s3_endpoint,
    ),
    ServiceSpec(
        Service.SCHEDULER,
        Tier.APP,
        managed=_always,
        program=lambda s: pools.scheduler(s, Service.SCHEDULER),
        url=lambda s: redact(s.redis_dsn),
    ),
    ServiceSpec(
        Service.GATEWAY,
        Tier.GATEWAY,
        managed=lambda s: s.gateway.manages_haproxy,
        program=gateway_programs.haproxy,
        url=lambda s: s.gateway.entry_url,
    ),
    ServiceSpec(
        Service.REGISTRAR,
        Tier.GATEWAY,
        # Beside the stack's HAProxy, or an external one whose runtime API is configured.
        managed=lambda s: s.gateway.manages_haproxy or s.gateway.admin_socket is not None,
        program=gateway_programs.registrar,
        url=lambda s: redact(s.redis_dsn),
    ),
    ServiceSpec(
        Service.ANALYTICS_PROCESSOR,
        Tier.APP,
        managed=_always,
        program=lambda s: pools.python_module(
            s, Service.ANALYTICS_PROCESSOR, "analytics.processor", autorestart=True
        ),
        url=lambda s: redact(s.redis_dsn),
    ),
    ServiceSpec(
        Service.EDGE,
        Tier.APP,
        managed=lambda s: local_edge(s) is not None,
        program=lambda s: pools.python_module(s, Service.EDGE, "cdn_adapters.edge"),
        url=edge_url,
    ),
)


def instance_name(service: str, index: int) -> str:
    return f"{service}-{index}"


def _instance_program(settings: Settings, service: str, index: int) -> Program:
    return pools.python_module(
        settings, instance_name(service, index), WEB_SERVICES[service], "--instance", str(index),
        # An instance that dies is started again; the registry puts it back behind the gateway.
        autorestart=True,
    )  # fmt: skip


def instance_specs(settings: Settings) -> tuple[ServiceSpec, ...]:
    """Every instance slot of every web service (gateway.slots each); `up` starts the first
    `instances` of each, `streamcore scale` the others."""
    return tuple(
        ServiceSpec(
            instance_name(service, index),
            Tier.APP,
            managed=_always,
            program=partial(_instance_program, service=service, index=index),
            url=partial(_instance_url, service=service, index=index),
            group=service,
            instance=index,
        )
        for service in WEB_SERVICES
        for index in range(1, settings.gateway.slots + 1)
    )


def _instance_url(settings: Settings, service: str, index: int) -> str:
    return settings.service(service).instance_url(index)


def replica_specs(settings: Settings) -> tuple[ServiceSpec, ...]:
    """The local PostgreSQL's streaming replicas: as many as stack.postgres_replicas."""
    return tuple(
        ServiceSpec(
            replica_name(index),
            Tier.REPLICAS,
            managed=lambda s: s.manages_postgres,
            program=partial(_postgres_replica, index=index),
            url=partial(_replica_url, index=index),
            replica=index,
        )
        for index in replica_indexes(settings)
        if settings.manages_postgres
    )


def worker_specs(settings: Settings) -> tuple[ServiceSpec, ...]:
    """One Celery worker pool per queue (devstack/pools.py), all answering at the broker."""
    return tuple(
        ServiceSpec(
            pools.pool_service(queue),
            Tier.APP,
            managed=_always,
            program=partial(pools.worker_pool, queue=queue),
            url=lambda s: redact(s.redis_dsn),
            queue=queue,
        )
        for queue in QueueName
    )


def service_specs(settings: Settings, *, every_slot: bool = False) -> list[ServiceSpec]:
    """Every service of this stack, in start order: the static ones, the replicas, the worker
    pools, and the web services' instances (those wanted now; `every_slot`: all of them)."""
    instances = [
        spec
        for spec in instance_specs(settings)
        if every_slot or spec.instance <= settings.service(spec.group).instances
    ]
    specs = (*SERVICES, *replica_specs(settings), *worker_specs(settings), *instances)
    return sorted(specs, key=lambda spec: spec.tier)


def resolve(settings: Settings, name: str) -> list[ServiceSpec]:
    """The services a user's name means: `worker` is every worker pool, `catalog` every
    running instance of the catalog; [] if none."""
    specs = service_specs(settings)
    if name == pools.WORKER_GROUP:
        return [spec for spec in specs if spec.queue is not None]
    if name in WEB_SERVICES:
        return [spec for spec in specs if spec.group == name]
    return [spec for spec in specs if spec.service == name]


def managed_ports(settings: Settings) -> dict[int, str]:
    """Every TCP port the stack will listen on, with the service that needs it."""
    ports: dict[int, str] = {}
    if settings.manages_postgres:
        ports[settings.stack.postgres_port] = "postgres (stack.postgres_port)"
        ports.update(replica_ports(settings))
    if settings.manages_redis:
        ports[settings.stack.redis_port] = "redis (stack.redis_port)"
    if settings.manages_s3:
        ports[settings.stack.s3_port] = "s3 (stack.s3_port)"
        ports[settings.stack.s3_port + 10000] = "s3 gRPC (stack.s3_port + 10000)"
        base = settings.stack.seaweed_port_base
        for offset in range(4):
            ports[base + offset] = "seaweedfs (stack.seaweed_port_base)"
            ports[base + offset + 10000] = "seaweedfs gRPC (stack.seaweed_port_base + 10000)"
    for spec in instance_specs(settings):
        section = settings.service(spec.group)
        key, offset = SERVICE_SECTIONS[spec.group], spec.instance - 1
        ports[section.instance_port(spec.instance)] = f"{spec.service} ({key}.port + {offset})"
        ports[section.instance_agent_port(spec.instance)] = (
            f"{spec.service}'s agent ({key}.agent_port + {offset})"
        )
    if settings.gateway.manages_haproxy:
        ports[settings.gateway.port] = "gateway (gateway.port)"
        ports[settings.gateway.metrics_port] = "gateway metrics (gateway.metrics_port)"
    if (edge := local_edge(settings)) is not None:
        ports[edge.port] = f"edge (cdns[{edge.name}].port)"
    return ports
