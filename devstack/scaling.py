"""`streamcore scale SERVICE N`: more or fewer instances of a web service, without a failed request.

Up: the new instances start, answer /healthz, register themselves, and the registrar gives each
a server slot in HAProxy; we wait until HAProxy's own check has put each into rotation.
Down: the highest-numbered instances leave first. Each is drained in HAProxy (`set server …
state drain`: no new requests), we wait until it holds no request (at most the backend's
`drain_timeout_s`), then stop it; on SIGTERM it drops its lease and stops.

Also the gateway's view of every instance, for `streamcore status`: health, weight, sessions,
and the process's CPU use.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from devstack import health, run_state
from devstack.run_state import StackError, running_settings
from devstack.services import WEB_SERVICES, ServiceSpec, instance_specs
from devstack.supervisor import Supervisor, SupervisorError
from gateway import runtime
from streamcore.settings import Settings

POLL_S = 0.25


@dataclass(frozen=True)
class ScaleResult:
    service: str
    before: list[int]
    after: list[int]
    started: list[str]
    stopped: list[str]


Servers = dict[tuple[str, str, int], runtime.Server]


def gateway_servers(settings: Settings) -> Servers:
    """HAProxy's assigned slots by (backend, address, port); empty when HAProxy does not answer."""
    try:
        rows = runtime.run_sync(runtime.for_settings(settings).servers())
    except (OSError, runtime.RuntimeApiError):
        return {}
    return {(row.backend, row.addr, row.port): row for row in rows if not row.free}


def server_of(
    settings: Settings, spec: ServiceSpec, servers: Servers | None = None
) -> runtime.Server | None:
    """The slot HAProxy has given the instance (from `servers`, else asked now)."""
    section = settings.service(spec.group)
    key = (spec.group, section.registered_host, section.instance_port(spec.instance))
    return (gateway_servers(settings) if servers is None else servers).get(key)


def cpu_percents(pids: list[int], interval_s: float = 0.2) -> dict[int, float]:
    """Each process's CPU use over one shared short window, percent of one core."""
    processes: dict[int, psutil.Process] = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            processes[pid] = psutil.Process(pid)
            processes[pid].cpu_percent(None)  # opens the window
    time.sleep(interval_s)
    found: dict[int, float] = {}
    for pid, process in processes.items():
        with contextlib.suppress(psutil.Error):
            found[pid] = float(process.cpu_percent(None))
    return found


def scale(
    settings: Settings, service: str, count: int, on_step: Callable[[str], None] = lambda _: None
) -> ScaleResult:
    if service not in WEB_SERVICES:
        raise StackError(f"{service} is not a web service; scalable: {', '.join(WEB_SERVICES)}")
    settings = running_settings(settings)
    target = run_state.with_instances(settings, service, count)
    supervisor = Supervisor(settings.stack.data_dir)
    if supervisor.pid() is None:
        raise StackError("no stack is running")
    slots = [spec for spec in instance_specs(settings) if spec.group == service]
    processes = supervisor.processes()
    running = [s for s in slots if _running(processes.get(s.service))]
    before = [s.instance for s in running]
    starting = [s for s in slots if s.instance <= count and s not in running]
    # Highest first: instance 1 stays, like the one `up` starts.
    stopping = sorted((s for s in running if s.instance > count), key=lambda s: -s.instance)
    try:
        for spec in starting:
            on_step(f"starting {spec.service}")
            supervisor.start_program(spec.service)
        for spec in starting:
            _wait_in_rotation(target, spec, on_step)
        for spec in stopping:
            _drain(target, spec, on_step)
            on_step(f"stopping {spec.service}")
            supervisor.stop_program(spec.service)
    except SupervisorError as exc:
        raise StackError(str(exc)) from None
    run_state.record_instances(settings, service, count)
    return ScaleResult(
        service, before, list(range(1, count + 1)),
        [s.service for s in starting], [s.service for s in stopping],
    )  # fmt: skip


def rolling_restart(
    settings: Settings,
    supervisor: Supervisor,
    specs: list[ServiceSpec],
    on_step: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Restart instances one by one: drained, stopped, started, back in rotation."""
    for spec in specs:
        view = server_of(settings, spec)
        if view is not None and view.in_rotation:
            _drain(settings, spec, on_step)
        supervisor.stop_program(spec.service)
        supervisor.start_program(spec.service)
        _undrain(settings, spec)
        _wait_in_rotation(settings, spec, on_step)
    return [spec.service for spec in specs]


def _undrain(settings: Settings, spec: ServiceSpec) -> None:
    """Take back our drain of a restarted instance's slot: the registrar leaves a drained slot
    alone (a drain means it is being scaled down), so no one else would."""
    view = server_of(settings, spec)
    if view is not None and view.admin is runtime.AdminState.DRAIN:
        runtime.run_sync(runtime.for_settings(settings).ready(spec.group, view.slot))


def _running(info: object) -> bool:
    return getattr(info, "state", None) in {"RUNNING", "STARTING"}


def _wait_in_rotation(
    settings: Settings, spec: ServiceSpec, on_step: Callable[[str], None]
) -> None:
    """Healthy, registered, and UP in HAProxy by its own health check."""
    gateway = settings.gateway
    # Registration is at once; HAProxy then needs `check_rise` good checks, each at most an
    # interval apart, before the server takes requests.
    timeout_s = settings.stack.startup_timeout_s + gateway.check_rise * gateway.check_interval_s
    deadline = time.monotonic() + timeout_s
    healthy = False
    while time.monotonic() < deadline:
        if not healthy:
            with contextlib.suppress(Exception):
                asyncio.run(health.probe_http(spec.url(settings)))
                healthy = True
                on_step(f"{spec.service} is healthy; waiting for the gateway to route to it")
        view = server_of(settings, spec)
        if healthy and view is not None and view.in_rotation:
            on_step(f"{spec.service} is in rotation ({view.slot})")
            return
        time.sleep(POLL_S)
    raise StackError(f"{spec.service} was not in the gateway's rotation after {timeout_s:.0f}s")


def _drain(settings: Settings, spec: ServiceSpec, on_step: Callable[[str], None]) -> None:
    """No new requests for the instance, then wait until it holds none (bounded)."""
    view = server_of(settings, spec)
    if view is None:
        return  # not behind the gateway (never registered, or HAProxy is down): nothing to drain
    runtime.run_sync(runtime.for_settings(settings).drain(spec.group, view.slot))
    on_step(f"draining {spec.service} ({view.slot})")
    deadline = time.monotonic() + settings.gateway.backends[spec.group].drain_timeout_s
    while time.monotonic() < deadline:
        current = server_of(settings, spec)
        if current is None or current.sessions == 0:
            return
        time.sleep(POLL_S)
    on_step(f"{spec.service} still holds requests after the drain timeout; stopping it anyway")
