"""Start, inspect and stop the local stack: `streamcore up`, `status` and `down`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from streamcore import binaries
from streamcore.settings import Settings
from streamcore.stack import bootstrap, health
from streamcore.stack.services import SERVICES, Service, ServiceSpec, Tier, managed_ports
from streamcore.stack.supervisor import Supervisor, SupervisorError, stack_processes

log = logging.getLogger(__name__)

State = Literal["healthy", "unhealthy", "down"]
# supervisord states from which a program will not come up by itself.
_DEAD_STATES = {"EXITED", "FATAL", "STOPPED", "BACKOFF", "UNKNOWN"}


class StackError(Exception):
    """The stack could not be started or stopped; the message says why and where to look."""


class StackAlreadyRunning(StackError):
    pass


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
class StackStatus:
    env: str
    data_dir: str
    supervisor_pid: int | None
    services: list[ServiceStatus]
    ffmpeg: dict[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(s.state == "healthy" for s in self.services) and "error" not in self.ffmpeg

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "healthy": self.healthy}


def _ffmpeg_info(settings: Settings) -> dict[str, str]:
    try:
        info = binaries.find_ffmpeg(settings.ffmpeg.path)
    except binaries.BinaryNotFound as exc:
        return {"error": str(exc)}
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

    specs = [spec for spec in SERVICES if spec.managed(settings)]
    supervisor.write_config([spec.program(settings) for spec in specs])
    process = supervisor.start(foreground=foreground)
    try:
        for tier in Tier:
            tier_specs = [spec for spec in SERVICES if spec.tier == tier]
            for spec in tier_specs:
                if spec.managed(settings):
                    on_step(f"starting {spec.service}")
                    supervisor.start_program(spec.service)
            _wait_healthy(settings, supervisor, tier_specs, bootstrap=tier == Tier.INFRA)
            if tier == Tier.INFRA:
                for step in bootstrap.after_infra(settings):
                    on_step(f"created {step}")
    except BaseException:
        supervisor.shutdown()
        if process is not None:
            process.wait(timeout=10)
        raise
    return process


def _wait_healthy(
    settings: Settings, supervisor: Supervisor, specs: list[ServiceSpec], *, bootstrap: bool
) -> None:
    deadline = time.monotonic() + settings.stack.startup_timeout_s
    services = [spec.service for spec in specs]
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
        reasons = asyncio.run(health.check_all(services, settings, bootstrap=bootstrap))
        failing = {service: reason for service, reason in reasons.items() if reason}
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
    supervisor = Supervisor(settings.stack.data_dir)
    supervisor_pid = supervisor.pid()
    processes = supervisor.processes() if supervisor_pid is not None else {}
    reasons = asyncio.run(health.check_all([spec.service for spec in SERVICES], settings))
    rows = []
    for spec in SERVICES:
        url = spec.url(settings)
        reason = reasons[spec.service]
        if not spec.managed(settings):
            state: State = "healthy" if reason is None else "down"
            rows.append(ServiceStatus(spec.service, False, state, url, detail=reason))
            continue
        info = processes.get(spec.service)
        if info is None or info.state != "RUNNING":
            detail = (
                f"{info.state.lower()} ({info.description}); log: {info.log_file}"
                if info
                else "stack not running"
            )
            rows.append(
                ServiceStatus(
                    spec.service, True, "down", url,
                    process=info.state if info else None, detail=detail,
                )
            )  # fmt: skip
            continue
        rows.append(
            ServiceStatus(
                spec.service, True, "healthy" if reason is None else "unhealthy", url,
                pid=info.pid, process=info.state, detail=reason,
            )
        )  # fmt: skip
    return StackStatus(
        env=settings.env,
        data_dir=str(settings.stack.data_dir),
        supervisor_pid=supervisor_pid,
        services=rows,
        ffmpeg=_ffmpeg_info(settings),
    )


def stop(settings: Settings) -> bool:
    """Stop the stack; True if one was running. Stragglers are killed, so none survive."""
    supervisor = Supervisor(settings.stack.data_dir)
    was_running = supervisor.pid() is not None
    supervisor.shutdown()
    leftovers = list(stack_processes(settings.stack.data_dir))
    for pid in leftovers:
        log.warning("process %d outlived its supervisor; killing it", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return was_running


def restart_service(settings: Settings, service: Service) -> None:
    """Start one managed service again (after a crash) and wait until it is healthy."""
    supervisor = Supervisor(settings.stack.data_dir)
    if supervisor.pid() is None:
        raise StackError("no stack is running")
    spec = next(spec for spec in SERVICES if spec.service == service)
    try:
        supervisor.start_program(service)
    except SupervisorError as exc:
        raise StackError(str(exc)) from None
    _wait_healthy(settings, supervisor, [spec], bootstrap=False)
