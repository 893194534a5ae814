"""Start, inspect and stop the local stack: `streamcore up`, `status` and `down`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from devstack import bootstrap, health, run_state, scaling
from devstack.pools import WORKER_GROUP
from devstack.run_state import StackAlreadyRunning, StackError, running_settings
from devstack.services import Service, ServiceSpec, Tier, managed_ports, resolve, service_specs
from devstack.supervisor import (
    ProcessInfo,
    Supervisor,
    SupervisorError,
    stack_processes,
)
from gateway import reload
from streamcore import binaries
from streamcore.settings import Settings

log = logging.getLogger(__name__)

State = Literal["healthy", "unhealthy", "down"]
# supervisord states from which a program will not come up by itself.
_DEAD_STATES = {"EXITED", "FATAL", "STOPPED", "BACKOFF", "UNKNOWN"}


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    managed: bool
    state: State
    url: str
    pid: int | None = None
    process: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ReplicaStatus(ServiceStatus):
    lag_s: float | None = None  # seconds behind the primary, when it answers


@dataclass(frozen=True)
class WorkerPoolStatus(ServiceStatus):
    """A Celery worker pool: the queue it consumes and that queue's policy."""

    queue: str = ""
    concurrency: int = 0
    time_limit_s: int = 0
    max_retries: int = 0


@dataclass(frozen=True)
class InstanceStatus(ServiceStatus):
    """One instance of a web service, with what the gateway says of it."""

    service: str = ""  # catalog, streaming, origin, auth, subscriptions
    instance: int = 0
    gateway: str | None = None  # HAProxy's status of its server: UP, DOWN, DRAIN, MAINT, ...
    check: str | None = None  # HAProxy's last health check
    weight: int | None = None  # the weight HAProxy uses (set by the agent from CPU use)
    sessions: int | None = None  # requests it holds now
    cpu_percent: float | None = None


@dataclass(frozen=True)
class StackStatus:
    env: str
    data_dir: str
    supervisor_pid: int | None
    services: list[ServiceStatus]
    ffmpeg: dict[str, str] = field(default_factory=dict)
    # The local PostgreSQL's streaming replicas (`streamcore up --replicas N`).
    replicas: list[ReplicaStatus] = field(default_factory=list)
    # One Celery worker pool per queue (devstack/pools.py).
    worker_pools: list[WorkerPoolStatus] = field(default_factory=list)
    # Every instance of every web service behind the gateway.
    instances: list[InstanceStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        rows = [*self.services, *self.replicas, *self.worker_pools, *self.instances]
        return all(s.state == "healthy" for s in rows) and "error" not in self.ffmpeg

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "healthy": self.healthy}


def _ffmpeg_info(settings: Settings) -> dict[str, str]:
    """The FFmpeg the worker will use, or an `error` (missing, or older than the minimum)."""
    try:
        info = binaries.find_ffmpeg(settings.ffmpeg.path)
    except binaries.UnsupportedFFmpeg as exc:
        return {"error": str(exc), "state": "unsupported"}
    except binaries.BinaryNotFound as exc:
        return {"error": str(exc), "state": "missing"}
    return {"path": str(info.path), "source": info.source, "version": info.version}


def _check_ports_free(settings: Settings) -> None:
    for port, owner in managed_ports(settings).items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((settings.stack.host, port))
            except OSError:
                raise StackError(
                    f"port {port} on {settings.stack.host}, needed by {owner}, is already in use "
                    "by another process; stop it or choose another port in the settings"
                ) from None


def start(
    settings: Settings, *, foreground: bool, on_step: Callable[[str], None] = lambda _: None
) -> subprocess.Popen[bytes] | None:
    """Start every managed service, tier by tier, each tier healthy before the next.

    Returns supervisord's process in foreground mode (None when detached). On any failure
    everything already started is stopped again before the error is raised.
    """
    supervisor = Supervisor(settings.stack.data_dir)
    if (pid := supervisor.pid()) is not None:
        raise StackAlreadyRunning(
            f"a stack is already running from {settings.stack.data_dir} (supervisord pid {pid}); "
            "see `streamcore status`, or stop it with `streamcore down`"
        )
    _check_ports_free(settings)
    ffmpeg = _ffmpeg_info(settings)
    if "error" in ffmpeg:
        raise StackError(ffmpeg["error"])
    on_step(f"ffmpeg {ffmpeg['version']} from {ffmpeg['source']}: {ffmpeg['path']}")
    bootstrap.prepare(settings)
    (settings.stack.data_dir / "run").mkdir(parents=True, exist_ok=True)
    (settings.stack.data_dir / "run" / "ffmpeg.json").write_text(json.dumps(ffmpeg, indent=2))
    run_state.write(settings)

    specs = service_specs(settings)
    # Every instance slot is a program, so that `streamcore scale` can start it later.
    programs = service_specs(settings, every_slot=True)
    supervisor.write_config([spec.program(settings) for spec in programs if spec.managed(settings)])
    process = supervisor.start(foreground=foreground)
    try:
        for tier in Tier:
            tier_specs = [spec for spec in specs if spec.tier == tier]
            _start_tier(settings, supervisor, tier, tier_specs, on_step)
    except BaseException:
        supervisor.shutdown()
        if process is not None:
            process.wait(timeout=10)
        run_state.clear(settings)
        raise
    return process


def _start_tier(
    settings: Settings,
    supervisor: Supervisor,
    tier: Tier,
    specs: list[ServiceSpec],
    on_step: Callable[[str], None],
) -> None:
    if tier == Tier.REPLICAS:
        # Replicas are cloned from the primary, which is up (and migrated) by now.
        for step in bootstrap.clone_replicas(settings):
            on_step(f"created {step}")
    for spec in specs:
        if spec.managed(settings):
            on_step(f"starting {spec.service}")
            supervisor.start_program(spec.service)
    _wait_healthy(settings, supervisor, specs, bootstrap=tier == Tier.INFRA)
    if tier == Tier.INFRA:
        for step in bootstrap.after_infra(settings):
            on_step(f"created {step}")


def _wait_healthy(
    settings: Settings, supervisor: Supervisor, specs: list[ServiceSpec], *, bootstrap: bool
) -> None:
    deadline = time.monotonic() + settings.stack.startup_timeout_s
    managed = {spec.service for spec in specs if spec.managed(settings)}
    while True:
        processes = supervisor.processes()
        for service in managed:
            info = processes.get(service)
            if info is not None and info.state in _DEAD_STATES:
                raise StackError(
                    f"{service} exited while starting ({info.description}).\n"
                    + supervisor.log_tail(service)
                )
        results = asyncio.run(health.check_all(specs, settings, bootstrap=bootstrap))
        failing = {service: h.reason for service, h in results.items() if h.reason}
        if not failing:
            return
        if time.monotonic() > deadline:
            details = "\n".join(
                f"{service}: {reason}\n"
                + (supervisor.log_tail(service) if service in managed else "(external service)")
                for service, reason in failing.items()
            )
            raise StackError(
                f"not healthy after {settings.stack.startup_timeout_s:.0f}s:\n{details}"
            )
        time.sleep(0.5)


def status(settings: Settings) -> StackStatus:
    settings = running_settings(settings)
    supervisor = Supervisor(settings.stack.data_dir)
    supervisor_pid = supervisor.pid()
    processes = supervisor.processes() if supervisor_pid is not None else {}
    specs = service_specs(settings)
    results = asyncio.run(health.check_all(specs, settings))
    rows = [
        _status_row(spec, settings, processes.get(spec.service), results[spec.service])
        for spec in specs
    ]
    servers = scaling.gateway_servers(settings)
    cpu = scaling.cpu_percents([row.pid for row, spec in zip(rows, specs, strict=True)
                                if spec.group and row.pid is not None])  # fmt: skip
    return StackStatus(
        env=settings.env,
        data_dir=str(settings.stack.data_dir),
        supervisor_pid=supervisor_pid,
        services=[
            row
            for spec, row in zip(specs, rows, strict=True)
            if type(row) is ServiceStatus and not spec.group
        ],
        ffmpeg=_ffmpeg_info(settings),
        replicas=[row for row in rows if isinstance(row, ReplicaStatus)],
        worker_pools=[row for row in rows if isinstance(row, WorkerPoolStatus)],
        instances=[
            _instance_row(spec, settings, row, servers, cpu)
            for spec, row in zip(specs, rows, strict=True)
            if spec.group
        ],
    )


def _instance_row(
    spec: ServiceSpec,
    settings: Settings,
    row: ServiceStatus,
    servers: scaling.Servers,
    cpu: dict[int, float],
) -> InstanceStatus:
    view = scaling.server_of(settings, spec, servers)
    return InstanceStatus(
        **asdict(row), service=spec.group, instance=spec.instance,
        gateway=view.status if view else None, check=view.check_status if view else None,
        weight=view.weight if view else None, sessions=view.sessions if view else None,
        cpu_percent=cpu.get(row.pid) if row.pid is not None else None,
    )  # fmt: skip


def _status_row(
    spec: ServiceSpec, settings: Settings, info: ProcessInfo | None, result: health.Health
) -> ServiceStatus:
    reason = result.reason
    pid: int | None = None
    process: str | None = None
    if not spec.managed(settings):
        state: State = "healthy" if reason is None else "down"
        detail = reason
    elif info is None or info.state != "RUNNING":
        state, process = "down", info.state if info else None
        detail = (
            f"{info.state.lower()} ({info.description}); log: {info.log_file}"
            if info
            else "stack not running"
        )
    else:
        state = "healthy" if reason is None else "unhealthy"
        detail, pid, process = reason or result.detail, info.pid, info.state
    fields = (spec.service, spec.managed(settings), state, spec.url(settings), pid, process, detail)
    if spec.replica:
        return ReplicaStatus(*fields, lag_s=result.lag_s)
    if spec.queue is not None:
        policy = settings.worker.queues[spec.queue]
        return WorkerPoolStatus(
            *fields, queue=str(spec.queue), concurrency=policy.concurrency,
            time_limit_s=policy.time_limit_s, max_retries=policy.max_retries,
        )  # fmt: skip
    return ServiceStatus(*fields)


def stop(settings: Settings) -> bool:
    """Stop the stack; True if one was running. Stragglers are killed, so none survive."""
    supervisor = Supervisor(settings.stack.data_dir)
    was_running = supervisor.pid() is not None
    supervisor.shutdown()
    _kill_leftovers(settings)
    run_state.clear(settings)
    return was_running


def _kill_leftovers(settings: Settings, wait_s: float = 5.0) -> None:
    """SIGKILL what outlived supervisord, then wait until the kernel has reaped it, so that
    nothing of the stack is left when `stop` returns (a killed process lingers a moment)."""
    import psutil

    leftovers = []
    for pid in stack_processes(settings.stack.data_dir):
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            log.warning("process %d (%s) outlived its supervisor; killing it",
                        pid, " ".join(process.cmdline()[:4]))  # fmt: skip
            process.kill()
            leftovers.append(process)
    psutil.wait_procs(leftovers, timeout=wait_s)


def _running_specs(settings: Settings, service: str) -> tuple[Supervisor, list[ServiceSpec]]:
    supervisor = Supervisor(settings.stack.data_dir)
    if supervisor.pid() is None:
        raise StackError("no stack is running")
    specs = [spec for spec in resolve(settings, service) if spec.managed(settings)]
    if not specs:
        names = [spec.service for spec in service_specs(settings) if spec.managed(settings)]
        raise StackError(
            f"{service} is not a service of this stack; its services: "
            + ", ".join([*names, WORKER_GROUP])
        )
    return supervisor, specs


def restart_service(settings: Settings, service: str) -> list[str]:
    """Restart one service (`worker`: every worker pool), stopped, dead or running, and wait
    until it is healthy; the others are not touched. The names of the services restarted."""
    settings = running_settings(settings)
    supervisor, specs = _running_specs(settings, service)
    processes = supervisor.processes()
    try:
        if service == Service.GATEWAY and processes[service].state == "RUNNING":
            # A new HAProxy worker takes the listening sockets over: no connection refused.
            reload.reload_sync(settings, force=True)
            return [service]
        if all(spec.group for spec in specs):
            # One instance at a time, each drained first and back in rotation before the next.
            return scaling.rolling_restart(settings, supervisor, specs)
        for spec in specs:
            supervisor.stop_program(spec.service)  # a no-op for one that is not running
            supervisor.start_program(spec.service)
    except (SupervisorError, reload.ReloadFailed) as exc:
        raise StackError(str(exc)) from None
    _wait_healthy(settings, supervisor, specs, bootstrap=False)
    return [spec.service for spec in specs]


def stop_service(settings: Settings, service: str) -> None:
    """Stop one service (the way `down` stops it); `restart_service` starts it again."""
    supervisor, specs = _running_specs(running_settings(settings), service)
    try:
        for spec in specs:
            supervisor.stop_program(spec.service)
    except SupervisorError as exc:
        raise StackError(str(exc)) from None
